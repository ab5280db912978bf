/** Every probe of src/probe keeps the same contract (contract-testing.ts). */
import { createProbe, LinearProbe, LogisticProbe, NeuroXProbe } from './linear-probe.js';
import { describeProbeContract } from './contract-testing.js';

describeProbeContract({ name: 'LogisticProbe (elastic net)', task: 'classification', make: (p) => new LogisticProbe(p), load: (d) => LogisticProbe.load(d) });
describeProbeContract({ name: 'NeuroXProbe', task: 'classification', make: (p) => new NeuroXProbe(p), load: (d) => LogisticProbe.load(d) });
describeProbeContract({ name: 'createProbe (the default factory)', task: 'classification', make: (p) => createProbe(p), load: (d) => LogisticProbe.load(d) });
describeProbeContract({ name: 'LinearProbe', task: 'regression', make: (p) => new LinearProbe(p), load: (d) => LinearProbe.load(d) });
