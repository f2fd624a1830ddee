/** A problem with a model directory or a model request (missing file, bad config, missing key, ...). */
export class ModelError extends Error {
  override name = 'ModelError';
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}
