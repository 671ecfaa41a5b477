/**
 * Runs an async task at most once per `gapMs`, never two at once, and never drops the last
 * request: a call while it runs (or too soon after) schedules one more run. Live events can
 * arrive many times a second; the panels refetch at most once a second and still end current.
 */
export function throttled(task: () => Promise<void>, gapMs: number): () => void {
  let running = false
  let again = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let last = Number.NEGATIVE_INFINITY

  const run = async (): Promise<void> => {
    timer = undefined
    running = true
    again = false
    last = performance.now()
    try {
      await task()
    } catch {
      // The task shows its own errors; a failure must not stop later runs.
    } finally {
      running = false
      if (again) request()
    }
  }

  const request = (): void => {
    if (running) {
      again = true
      return
    }
    if (timer !== undefined) return
    timer = setTimeout(run, Math.max(0, last + gapMs - performance.now()))
  }
  return request
}
