/**
 * The console's Files tab: the session's output directory as the relay lists it (path, size, mtime;
 * bounded by the relay, and it says when it left entries out), refreshed every few seconds while shown.
 * Choosing a file previews its first PREVIEW_MAX_BYTES as text, or says why it cannot (binary, not
 * UTF-8); every file has a download link (the relay streams it with its content type).
 */
import { useEffect, useRef, useState } from 'react';
import { useServices } from '../page/context.js';
import { RestError, type RestClient } from '../net/rest.js';
import type { FileEntry } from '../../shared/index.js';
import { usePoll } from './usePoll.js';
import { PREVIEW_MAX_BYTES, formatBytes, formatMtime, previewOf, type Preview } from './consoleModel.js';
import { KeepFocus } from './focus.js';

/** How often the listing is read again while the tab is shown, ms. */
export const FILES_POLL_MS = 4000;

export function ConsoleFiles(props: { uuid: string }) {
  const { rest } = useServices();
  const listing = usePoll((signal) => rest.call('sessionFiles', { params: { uuid: props.uuid }, signal }), FILES_POLL_MS, props.uuid);
  const [open, setOpen] = useState<FileEntry | null>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const files = listing.data ? [...listing.data.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) : null;
  // The open file's size and mtime follow the listing (a file still being written grows).
  const current = open && files ? (files.find((f) => f.path === open.path) ?? open) : open;

  return (
    <div className="console-files">
      <div className="console-toolbar">
        <span className="muted">{listing.data ? `${listing.data.root} · ${listing.data.files.length} file${listing.data.files.length === 1 ? '' : 's'}` : 'Reading the output directory…'}</span>
        <button type="button" onClick={listing.reload}>
          Refresh
        </button>
      </div>
      {listing.error && (
        <p className="errors" role="alert">
          Could not list the files: {listing.error.message} ({listing.error.code})
        </p>
      )}
      {listing.data?.truncated && <p className="hint">The directory holds more than the relay lists (entries or depth past its bounds); these are the first.</p>}
      <div className="console-files-body">
        {files && files.length === 0 && <p className="muted">No files in the session's output directory yet.</p>}
        {files && files.length > 0 && (
          <KeepFocus list={listRef}>
            <ul ref={listRef} className="file-list" aria-label="Output files" tabIndex={-1} data-testid="file-list">
              {files.map((f) => (
                <li key={f.path} data-path={f.path}>
                  <button type="button" className={open?.path === f.path ? 'selected' : ''} aria-pressed={open?.path === f.path} onClick={() => setOpen(f)}>
                    <span className="path">{f.path}</span>
                  </button>
                  <span className="muted size">{formatBytes(f.size)}</span>
                  <span className="muted mtime">{formatMtime(f.mtime)}</span>
                </li>
              ))}
            </ul>
          </KeepFocus>
        )}
        {current && <FilePreview key={`${current.path}@${current.mtime}`} rest={rest} uuid={props.uuid} file={current} />}
      </div>
    </div>
  );
}

type Loaded = { preview: Preview; contentType: string } | { error: string };

function FilePreview(props: { rest: RestClient; uuid: string; file: FileEntry }) {
  const { rest, uuid, file } = props;
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    rest
      .readBytes('sessionFile', { params: { uuid, path: file.path }, maxBytes: PREVIEW_MAX_BYTES, signal: ctrl.signal })
      .then((r) => !ctrl.signal.aborted && setLoaded({ preview: previewOf(r.contentType, r.bytes, r.truncated), contentType: r.contentType }))
      .catch((e: unknown) => !ctrl.signal.aborted && setLoaded({ error: e instanceof RestError ? `${e.message} (${e.code})` : String(e) }));
    return () => ctrl.abort();
  }, [rest, uuid, file.path]);
  const href = rest.link('sessionFile', { uuid, path: file.path });
  const name = file.path.split('/').pop() ?? file.path;
  return (
    <section className="file-preview" aria-label={`Preview of ${file.path}`} data-testid="file-preview" data-path={file.path}>
      <div className="console-toolbar">
        <strong className="path">{file.path}</strong>
        <span className="muted">
          {formatBytes(file.size)} · modified {formatMtime(file.mtime)}
        </span>
        <a href={href} download={name} data-testid="file-download">
          Download
        </a>
      </div>
      {loaded === null && <p className="muted">Reading…</p>}
      {loaded && 'error' in loaded && (
        <p className="errors" role="alert">
          Could not read the file: {loaded.error}
        </p>
      )}
      {loaded && 'preview' in loaded && loaded.preview.kind === 'binary' && (
        <p className="muted" data-testid="file-binary">
          No preview: {loaded.preview.why}. Download it to open it.
        </p>
      )}
      {loaded && 'preview' in loaded && loaded.preview.kind === 'text' && (
        <>
          {loaded.preview.truncated && (
            <p className="hint">
              Showing the first {formatBytes(PREVIEW_MAX_BYTES)} of {formatBytes(file.size)}; download it for the rest.
            </p>
          )}
          {/* A labelled scrolling region: keyboard users can focus and scroll it. */}
          <pre className="file-text" tabIndex={0} aria-label={`Text of ${file.path}`} data-testid="file-text">
            {loaded.preview.text || '(empty file)'}
          </pre>
        </>
      )}
    </section>
  );
}
