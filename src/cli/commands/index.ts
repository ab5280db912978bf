/** Every subcommand, in help order. Each module exports `register(program, io)`. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { register as registerCorpus } from './corpus.js';

export type RegisterCommand = (program: Command, io: CliIO) => void;

import { register as registerConvert } from './convert.js';

import { register as report } from './report.js';

import { register as analyze } from './analyze.js';
import { register as rank } from './rank.js';
import { register as select } from './select.js';

import { register as registerExtract } from './extract.js';
import { register as registerInspect } from './inspect.js';
import { register as registerRun } from './run.js';
import { register as registerProbe } from './probe.js';
import { register as registerWorker } from './worker.js';
import { register as registerStatus } from './status.js';
import { register as registerExplain } from './explain.js';
import { register as registerIntervene } from './intervene.js';

export const COMMANDS: RegisterCommand[] = [registerRun, registerCorpus, registerConvert, report, analyze, rank, select, registerExtract, registerInspect, registerProbe, registerExplain, registerIntervene, registerWorker, registerStatus];
