import { clientEndpointToken, EndpointConfig } from "@rtoa/core"
import { Console, Effect } from "effect"

/** The console's address for a browser on this machine. */
export const consoleUrl = (endpoint: EndpointConfig) =>
  `http://${endpoint.host === "0.0.0.0" || endpoint.host === "::" ? "127.0.0.1" : endpoint.host}:${endpoint.port}/dashboard/`

/**
 * `make console-url`: the sign-in link, the token in the URL fragment (browsers never send a
 * fragment to the server; the page exchanges it for a session cookie and drops it from the
 * address bar). Printed on request only, never logged by the processor.
 */
export const consoleUrlCommand = Effect.gen(function* () {
  const endpoint = yield* EndpointConfig
  const token = clientEndpointToken(endpoint)
  if (token === undefined)
    return yield* Effect.fail(
      new Error(
        `no token yet: start the processor once (it creates ${endpoint.tokenFile}) or set PROCESSOR_HTTP_TOKEN`,
      ),
    )
  yield* Console.log(`${consoleUrl(endpoint)}#token=${encodeURIComponent(token)}`)
})
