// fauxqs (SNS and SQS) on its own thread, for the fan-out benchmark: its queues' backlog is then
// not in the heap the benchmark measures (the main thread's), only in the process's RSS.
// Plain JavaScript: a worker thread does not inherit the TypeScript loader.
import { parentPort } from 'node:worker_threads';
import { startFauxqs } from 'fauxqs';

const region = 'eu-west-1';
const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: region });
const { topicArn } = fauxqs.createTopic('notices', { region });
const gateway = fauxqs.createQueue('gateway', { region }).queueUrl;
fauxqs.subscribe({ topic: 'notices', queue: 'gateway', region, attributes: { RawMessageDelivery: 'true' } });
const send = fauxqs.createQueue('send', { region, attributes: { VisibilityTimeout: '30' } }).queueUrl;
parentPort.postMessage({ port: fauxqs.port, address: fauxqs.address, topicArn, gateway, send });
parentPort.on('message', async (message) => {
  if (message === 'stop') {
    await fauxqs.stop();
    parentPort.postMessage('stopped');
  }
});
