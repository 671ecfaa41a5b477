import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { runCommand } from "../../src/command.ts"

/**
 * A throw-away PKI for one test run, made with openssl in `dir`: a CA, a broker certificate it
 * signed (for 127.0.0.1 and localhost) packed into a PKCS12 keystore, a client certificate for
 * mutual TLS, and a second CA that signed nothing (a client trusting only it must be refused).
 * EC P-256 keys: generating them takes milliseconds, RSA would take a noticeable share of the test.
 */
export interface Pki {
  readonly dir: string
  /** The CA clients should trust (PEM). */
  readonly ca: string
  /** A freshly made CA that did not sign the broker's certificate. */
  readonly otherCa: string
  readonly serverCert: string
  readonly serverKey: string
  /** PKCS12 keystore with the broker's key and certificate chain. */
  readonly keystore: string
  readonly keystorePassword: string
  readonly clientCert: string
  readonly clientKey: string
}

const openssl = (args: ReadonlyArray<string>) => runCommand("openssl", args, process.env, "30 seconds")

const newKey = (file: string) =>
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file])

const selfSignedCa = (dir: string, name: string, cn: string) =>
  Effect.gen(function* () {
    const key = path.join(dir, `${name}.key`)
    const cert = path.join(dir, `${name}.pem`)
    yield* newKey(key)
    yield* openssl([
      ...["req", "-x509", "-new", "-key", key, "-out", cert, "-days", "2", "-subj", `/CN=${cn}`],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ])
    return { key, cert }
  })

/** A leaf certificate signed by `ca` with the given X.509 v3 extensions. */
const signedLeaf = (
  dir: string,
  name: string,
  cn: string,
  ca: { key: string; cert: string },
  extensions: string,
) =>
  Effect.gen(function* () {
    const key = path.join(dir, `${name}.key`)
    const csr = path.join(dir, `${name}.csr`)
    const cert = path.join(dir, `${name}.pem`)
    const ext = path.join(dir, `${name}.ext`)
    yield* newKey(key)
    yield* openssl(["req", "-new", "-key", key, "-out", csr, "-subj", `/CN=${cn}`])
    yield* Effect.sync(() => fs.writeFileSync(ext, extensions))
    yield* openssl([
      ...["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial"],
      ...["-out", cert, "-days", "2", "-extfile", ext],
    ])
    return { key, cert }
  })

export const makePki = (dir: string) =>
  Effect.gen(function* () {
    const ca = yield* selfSignedCa(dir, "ca", "rtoa test CA")
    const other = yield* selfSignedCa(dir, "other-ca", "rtoa untrusted test CA")
    const server = yield* signedLeaf(
      dir,
      "server",
      "127.0.0.1",
      ca,
      "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    const client = yield* signedLeaf(
      dir,
      "client",
      "rtoa-test-client",
      ca,
      "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    )
    const keystore = path.join(dir, "server.p12")
    const keystorePassword = randomBytes(12).toString("base64url")
    yield* openssl([
      ...["pkcs12", "-export", "-in", server.cert, "-inkey", server.key, "-certfile", ca.cert],
      ...["-name", "kafka", "-out", keystore, "-passout", `pass:${keystorePassword}`],
    ])
    return {
      dir,
      ca: ca.cert,
      otherCa: other.cert,
      serverCert: server.cert,
      serverKey: server.key,
      keystore,
      keystorePassword,
      clientCert: client.cert,
      clientKey: client.key,
    } satisfies Pki
  })
