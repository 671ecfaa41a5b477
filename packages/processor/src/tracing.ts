import { NodeSdk } from "@effect/opentelemetry"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Config, Effect, Layer, Option } from "effect"

/**
 * OpenTelemetry for the processor: one span per micro-batch (see @rtoa/pipeline's pipeline.ts).
 * `layerConfig` reads the exporter from the environment: OTEL_TRACES_EXPORTER=otlp|console|none,
 * defaulting to otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set and none otherwise (no tracer, no cost).
 */
export interface TracingSettings {
  readonly exporter: "otlp" | "console" | "none"
  /** The OTLP collector's base URL; empty means http://127.0.0.1:4318. */
  readonly endpoint: string
}

const resource = { serviceName: "rtoa-processor" }

export const layer = (settings: TracingSettings) => {
  switch (settings.exporter) {
    case "none":
      return Layer.empty
    case "console":
      return NodeSdk.layer(() => ({
        resource,
        spanProcessor: new SimpleSpanProcessor(new ConsoleSpanExporter()),
      }))
    case "otlp":
      return NodeSdk.layer(() => ({
        resource,
        spanProcessor: new BatchSpanProcessor(
          new OTLPTraceExporter({
            url: `${(settings.endpoint || "http://127.0.0.1:4318").replace(/\/$/, "")}/v1/traces`,
          }),
        ),
      }))
  }
}

/** OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_TRACES_EXPORTER. */
export const settingsConfig: Config.Config<TracingSettings> = Config.all({
  endpoint: Config.string("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(Config.withDefault("")),
  exporter: Config.option(Config.literal("otlp", "console", "none")("OTEL_TRACES_EXPORTER")),
}).pipe(
  Config.map(({ endpoint, exporter }) => ({
    endpoint,
    exporter: Option.getOrElse(exporter, (): TracingSettings["exporter"] =>
      endpoint === "" ? "none" : "otlp",
    ),
  })),
)

export const layerConfig = (config: Config.Config.Wrap<TracingSettings> = settingsConfig) =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
