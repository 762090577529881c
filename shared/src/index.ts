/** @module Code both sides import: the tunnel frames, flow control, share routing and events. */
export * from './frames.ts';
export * from './flow.ts';
export * from './share-route.ts';
export * from './control.ts';
export * from './error-pages.ts';
