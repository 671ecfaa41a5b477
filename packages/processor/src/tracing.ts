import { NodeSdk } from "@effect/opentelemetry"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Config, Effect, Layer } from "effect"

/**
 * OpenTelemetry for the processor: one span per micro-batch (see pipeline.ts). The exporter comes
 * from the environment: OTEL_TRACES_EXPORTER=otlp|console|none, defaulting to otlp when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set and none otherwise (no tracer, no cost).
 */
export const TracingLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const endpoint = yield* Config.string("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(Config.withDefault(""))
    const exporter = yield* Config.literal(
      "otlp",
      "console",
      "none",
    )("OTEL_TRACES_EXPORTER").pipe(Config.withDefault(endpoint === "" ? "none" : "otlp"))
    const resource = { serviceName: "rtoa-processor" }
    switch (exporter) {
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
              url: `${(endpoint || "http://127.0.0.1:4318").replace(/\/$/, "")}/v1/traces`,
            }),
          ),
        }))
    }
  }),
)
