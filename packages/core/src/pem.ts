import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { Either } from "effect"

/**
 * PEM files named by a variable (CA bundles, client certificates and keys), read and checked once
 * at start-up so a wrong path or file fails there, naming the variable. Messages name the file
 * but never quote its contents: a key file is a secret, and a mistyped path may point at one.
 */

const certificateBlock = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g

const readText = (variable: string, file: string): Either.Either<string, string> => {
  try {
    return Either.right(fs.readFileSync(file, "utf8"))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable"
    return Either.left(`${variable}: cannot read ${file} (${code}); expected a readable PEM file`)
  }
}

/** One or more PEM certificates (a CA bundle, or a client certificate with its chain). */
export const readCertificates = (variable: string, file: string): Either.Either<string, string> =>
  Either.flatMap(readText(variable, file), (text) => {
    const blocks = text.match(certificateBlock) ?? []
    if (blocks.length === 0)
      return Either.left(
        `${variable}: ${file} holds no PEM certificate (expected a "-----BEGIN CERTIFICATE-----" block)`,
      )
    for (const [i, block] of blocks.entries()) {
      try {
        new crypto.X509Certificate(block)
      } catch {
        return Either.left(`${variable}: certificate ${i + 1} in ${file} is not a valid X.509 certificate`)
      }
    }
    return Either.right(blocks.join("\n"))
  })

/**
 * An unencrypted PEM private key that belongs to the first certificate of `certificate` (so a
 * key and certificate from different pairs fail here, not as an obscure TLS handshake error).
 */
export const readPrivateKey = (
  variable: string,
  file: string,
  certificate: { readonly variable: string; readonly pem: string },
): Either.Either<string, string> =>
  Either.flatMap(readText(variable, file), (text) => {
    let key: crypto.KeyObject
    try {
      key = crypto.createPrivateKey(text)
    } catch {
      // The parser's own message is dropped on purpose: it could echo part of the input.
      return Either.left(`${variable}: ${file} holds no unencrypted PEM private key`)
    }
    const first = certificate.pem.match(certificateBlock)?.[0] ?? ""
    return new crypto.X509Certificate(first).checkPrivateKey(key)
      ? Either.right(text)
      : Either.left(
          `${variable}: the key in ${file} does not belong to the certificate in ${certificate.variable}`,
        )
  })
