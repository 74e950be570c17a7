/**
 * What the deployed bundles take for the SDK's lazily loaded event-stream
 * codec (deploy/esbuild-plugins.cjs, eventStreamsLeftOut). The SDK's HTTP
 * protocols load it only to send or read an event stream, and no Riposte
 * function calls an operation that has one; if one ever did, this says why
 * instead of failing obscurely.
 */
const leftOut = (): never => {
  throw new Error('an event-stream operation reached the deployed bundle, which leaves the SDK’s event-stream codec out (deploy/no-event-streams.ts)');
};

export class EventStreamSerde {
  constructor() {
    leftOut();
  }
}

export const eventStreamSerdeProvider = leftOut;
