/** Every subcommand, in help order. Each module exports `register(program, io)`. */
import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { register as analyze } from './analyze.js';
import { register as rank } from './rank.js';
import { register as select } from './select.js';

export type RegisterCommand = (program: Command, io: CliIO) => void;

export const COMMANDS: RegisterCommand[] = [rank, select, analyze];
