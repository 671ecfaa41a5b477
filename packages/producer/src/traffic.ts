import type { EventInput } from "@rtoa/core"
import { intBetween, pickOne, type Random, weighted } from "./random.ts"

/**
 * What simulated traffic looks like: channel mix, the source each channel reports, event types
 * per channel, and the properties each event type carries. Separate from the generator so the
 * shape of the traffic can be read (and tuned) in one place.
 */

export type Channel = "Web" | "Mobile" | "API" | "Partner"

/** Share of all valid events per channel. */
export const channelMix: readonly [readonly [Channel, number], ...ReadonlyArray<readonly [Channel, number]>] =
  [
    ["Web", 0.5],
    ["Mobile", 0.35],
    ["API", 0.1],
    ["Partner", 0.05],
  ]
export const pickChannel = weighted(channelMix)

// The source must agree with the channel: a Web event never claims to come from the iOS app.
const sourceFor: Record<Channel, (random: Random) => string> = {
  Web: () => "web-frontend",
  Mobile: weighted([
    ["ios-app", 0.55],
    ["android-app", 0.45],
  ]),
  API: () => "public-api",
  Partner: () => "partner-feed",
}
export const pickSource = (channel: Channel, random: Random): string => sourceFor[channel](random)

export type EventType =
  | "page_view"
  | "click"
  | "search"
  | "add_to_cart"
  | "purchase"
  | "login"
  | "logout"
  | "signup"

// Interactive channels browse; API clients search and buy; partners mostly report sales and signups.
const interactive = weighted<EventType>([
  ["page_view", 40],
  ["click", 25],
  ["search", 12],
  ["add_to_cart", 8],
  ["purchase", 4],
  ["login", 6],
  ["logout", 3],
  ["signup", 2],
])
const typeFor: Record<Channel, (random: Random) => EventType> = {
  Web: interactive,
  Mobile: interactive,
  API: weighted<EventType>([
    ["search", 40],
    ["add_to_cart", 25],
    ["purchase", 20],
    ["login", 15],
  ]),
  Partner: weighted<EventType>([
    ["purchase", 50],
    ["signup", 30],
    ["click", 20],
  ]),
}
export const pickEventType = (channel: Channel, random: Random): EventType => typeFor[channel](random)

const paths = ["/", "/products", "/cart", "/checkout", "/account", "/help", "/deals"] as const
const queries = ["running shoes", "usb-c cable", "coffee", "headphones", "desk lamp", "backpack"] as const
const elements = ["buy-button", "nav-menu", "banner", "product-card", "footer-link"] as const
const product = (random: Random) => `sku-${String(intBetween(random, 1, 2_000)).padStart(5, "0")}`

/** Properties for an event; purchases always carry an amount, other events sometimes none. */
export const propertiesFor = (
  type: EventType,
  channel: Channel,
  orderId: string,
  random: Random,
): EventInput["properties"] => {
  if (type !== "purchase" && random() < 0.15) return undefined
  const partner = channel === "Partner" ? { partner_id: `p-${intBetween(random, 1, 40)}` } : {}
  switch (type) {
    case "page_view":
      return { path: random() < 0.4 ? `/products/${product(random)}` : pickOne(random, paths) }
    case "click":
      return { path: pickOne(random, paths), element: pickOne(random, elements), ...partner }
    case "search":
      return { query: pickOne(random, queries), results: intBetween(random, 0, 120) }
    case "add_to_cart":
      return { sku: product(random), quantity: intBetween(random, 1, 3) }
    case "purchase":
      return {
        order_id: orderId,
        amount: intBetween(random, 199, 49_999) / 100,
        currency: random() < 0.8 ? "USD" : "EUR",
        ...partner,
      }
    case "login":
    case "logout":
      return { method: random() < 0.7 ? "password" : "sso" }
    case "signup":
      return { plan: random() < 0.85 ? "free" : "pro", ...partner }
  }
}
