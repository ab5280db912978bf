/** The corpus model shared by every reader, task and extractor. */

/** One word of a sentence, with its annotations. */
export interface Word {
  /** The surface form (CoNLL-U FORM, the token of a token file, the Brown word). */
  form: string;
  /**
   * Annotation columns by name. CoNLL-U: id, form, lemma, upos, xpos, feats, head, deprel, deps, misc.
   * NeuroX token/label files: label. Brown: tag.
   */
  cols: Readonly<Record<string, string>>;
  /** 1-based line in the source file, for error messages. */
  line?: number;
}

/** One sentence: an ordered list of words plus its id and provenance. */
export interface Sentence {
  /** `# sent_id` for CoNLL-U, otherwise a generated id (`<file basename>:<n>`). */
  id: string;
  /** `# text` when the corpus has it. */
  text?: string;
  words: Word[];
  /** Source file and the 1-based line where the sentence starts. */
  file?: string;
  line?: number;
  /** Comment lines (without the leading '#'), CoNLL-U only. */
  comments?: string[];
}

/** A corpus is a list of sentences (readers also offer streaming iterators). */
export type Corpus = Sentence[];
