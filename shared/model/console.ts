/**
 * The session console's data: a session's log (byte offsets into one file in the container), the files
 * it produced, and its tasks. One contract for the REST routes (shared/api.ts) and the live log over
 * /wss (shared/protocol/messages.ts). Offsets are bytes of the log file, never lines or characters, so
 * a client can resume exactly after a reconnect or a relay restart.
 */
import { z } from 'zod';

/** Largest `max` a log read may ask for, and the default. */
export const LOG_READ_MAX_BYTES = 256 * 1024;
export const LOG_READ_DEFAULT_BYTES = 64 * 1024;
/** Bounds of a file listing: entries and directory depth below the session's output directory. */
export const FILES_LIST_MAX_ENTRIES = 1000;
export const FILES_LIST_MAX_DEPTH = 8;
/** Largest file the relay streams to a browser. */
export const FILE_DOWNLOAD_MAX_BYTES = 16 * 1024 * 1024;
/** Max tasks reported for one session. */
export const TASKS_MAX = 500;
/** A path inside a session's output directory, as listed: relative, '/'-separated. */
export const MAX_FILE_PATH_CHARS = 1024;

/**
 * Why a session's log cannot be read: the backend keeps none (a session the relay did not start and
 * whose backend writes no file), the file is not there (yet, or any more), or the container is
 * unreachable. The page says which, instead of showing an empty log.
 */
export const LOG_UNAVAILABLE_REASONS = ['no-log', 'missing', 'container-unreachable'] as const;
export const LogUnavailableReasonSchema = z.enum(LOG_UNAVAILABLE_REASONS);

/** One read of a session's log: `GET /api/sessions/:uuid/log` and the live `log` message share it. */
export const LogChunkSchema = z.object({
  /** UTF-8 text; never cut inside a character (a split character waits for the next read). */
  text: z.string(),
  /** Byte offset `text` starts at: the asked `from`, or 0 when the log was rotated or truncated. */
  from: z.number().int().min(0),
  /** Byte offset to ask for next: `from` + bytes of `text`. */
  next: z.number().int().min(0),
  /** The file's size in bytes when read. */
  size: z.number().int().min(0),
  /** More bytes exist past `next` than this read returned (the `max` bound was hit). */
  truncated: z.boolean(),
  /**
   * The file is shorter than the asked `from`, or is a different file than `logId` named (rotated):
   * this read starts again at 0 and the client should drop what it showed before.
   */
  rotated: z.boolean(),
  /** Identity of the file read (inode and birth or change time); pass it back as `logId`. */
  logId: z.string().max(128),
  /** Container path of the log, for people who want to `docker exec` it themselves. */
  path: z.string().max(1024),
});
export type LogChunk = z.infer<typeof LogChunkSchema>;

export const FileEntrySchema = z.object({
  /** Relative to the session's output directory, '/'-separated. */
  path: z.string().max(MAX_FILE_PATH_CHARS),
  size: z.number().int().min(0),
  /** Modification time, ms since the epoch. */
  mtime: z.number(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const FilesListSchema = z.object({
  /** The output directory in the container. */
  root: z.string().max(1024),
  files: z.array(FileEntrySchema).max(FILES_LIST_MAX_ENTRIES),
  /** Entries or depth past the bounds were left out. */
  truncated: z.boolean(),
});
export type FilesList = z.infer<typeof FilesListSchema>;

export const TASK_STATUSES = ['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled', 'unknown'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const TaskEntrySchema = z.object({
  id: z.string().max(256),
  description: z.string().max(8192),
  status: TaskStatusSchema,
  /** Agent id or name it is assigned to; null: nobody or not reported. */
  assignee: z.string().max(256).nullable(),
  /** 0..1; null: the backend reports no progress for it. */
  progress: z.number().min(0).max(1).nullable(),
  createdAt: z.number().nullable(),
  updatedAt: z.number().nullable(),
});
export type TaskEntry = z.infer<typeof TaskEntrySchema>;

export const TasksListSchema = z.object({
  /** False when the backend reports no tasks at all (then `reason` says so); never an invented empty list. */
  supported: z.boolean(),
  reason: z.string().max(512).nullable(),
  tasks: z.array(TaskEntrySchema).max(TASKS_MAX),
});
export type TasksList = z.infer<typeof TasksListSchema>;
