/** A session's output directory: listing and downloads through the exec driver (see ./outputFiles.ts). */
export { OutputFiles, OutputFileError, type OpenedFile, type OutputLocation } from './outputFiles.js';
export { contentTypeFor, contentDisposition, isTextType } from './contentType.js';
