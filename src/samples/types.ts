/** One text of a samples file and its gold labels (task -> label name), with where it is in the file. */
export interface SampleRecord {
  text: string;
  labels: Record<string, string>;
  /** "line 3" (JSON, JSONL, text) or "row 4" (CSV/TSV: the physical line the row starts on). */
  location: string;
}

export interface ReadSamplesOptions {
  /**
   * The model's tasks and each task's label names. Labels are checked against them (a task or label the
   * model does not have is an error naming the line/row). Undefined: labels are not read at all (texts
   * only; used for raw ONNX files), and `labelColumns` is ignored.
   */
  labels?: Readonly<Record<string, readonly string[]>>;
  /** CSV/TSV: the column holding the text (default "text"). */
  textColumn?: string;
  /**
   * CSV/TSV: task -> column holding its label. Tasks not named here use the default: the column named
   * exactly like the task; and when the model has exactly one task and no column is named like it, a
   * column named "label".
   */
  labelColumns?: Readonly<Record<string, string>>;
}

/** One merged text: labels from every file and entry that holds it. */
export interface MergedSample {
  text: string;
  labels: Record<string, string>;
  /** "a.json line 3" of its first appearance */
  source: string;
}
