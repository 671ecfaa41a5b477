/**
 * A text/event-stream reader for the simulated dashboards: chunks in, complete events out, as a
 * browser's EventSource dispatches them (an event ends at a blank line; comments and blocks
 * without data, such as the server's `retry:` hint and keep-alives, dispatch nothing).
 */

export interface SseEvent {
  readonly event: string
  readonly data: string
}

export const makeSseParser = () => {
  let buffer = ""
  return (chunk: string): ReadonlyArray<SseEvent> => {
    buffer += chunk.replace(/\r\n/g, "\n")
    const events: Array<SseEvent> = []
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = "message"
      const data: Array<string> = []
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue
        const colon = line.indexOf(":")
        const field = colon < 0 ? line : line.slice(0, colon)
        const raw = colon < 0 ? "" : line.slice(colon + 1)
        const value = raw.startsWith(" ") ? raw.slice(1) : raw
        if (field === "event") event = value
        else if (field === "data") data.push(value)
      }
      if (data.length > 0) events.push({ event, data: data.join("\n") })
    }
    return events
  }
}
