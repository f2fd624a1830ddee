/** A problem with a model directory or a model request (missing file, bad config, missing key, ...). */
import { RevertlmError } from '../util/errors.js';
export class ModelError extends RevertlmError {}
