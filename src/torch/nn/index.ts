export { Module } from './module.js';
export { Linear, Embedding, LayerNorm, RMSNorm, type LinearOptions } from './layers.js';
