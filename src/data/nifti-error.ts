/** The one error type of NIfTI reading: the file and the problem, in words. */
export class NiftiError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "NiftiError";
  }
}
