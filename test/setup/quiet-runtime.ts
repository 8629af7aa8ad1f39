import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker and bundler chatter at INFO drowns the test report; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger('WARN') });
