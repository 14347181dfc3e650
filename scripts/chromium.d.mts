/** Names of the variables that point at a Chromium binary, most specific first. */
export declare const CHROMIUM_ENV_VARS: readonly string[];
/** The Chromium to run, or one sentence on why there is none. */
export declare function findChromium(env?: NodeJS.ProcessEnv): { path: string; problem?: undefined; fromEnv?: undefined } | { path?: undefined; problem: string; fromEnv?: string };
/** The one line that says how to get going when Chromium is missing. */
export declare function chromiumHowTo(problem: string): string;
