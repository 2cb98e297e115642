/** SIGTERM/SIGINT: the first asks for a graceful stop; a second one while stopping exits at once (code 1). */

export function waitForStopSignal(onSecond: () => void = () => process.exit(1)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (seen) {
        onSecond();
        return;
      }
      seen = true;
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
