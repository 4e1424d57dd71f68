/** Display formats shared by the views. */
import { formatDuration } from '../../../src-main/util/duration';

/** A remaining time as a clock: 0:42, 12:05, 1:03:20 (the CLI's progress bar uses the same formatter). */
export const formatEta = (seconds: number): string => formatDuration(Math.max(0, seconds));
