/** `starling …`: the headless commands. All work goes through the same API the UI uses. */
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2));
