import pkg from '../package.json' with { type: 'json' };

export const STARLING_VERSION: string = pkg.version;
