/** The part of planer (1.x, no types of its own) the inbound path uses. */
declare module 'planer' {
  const planer: {
    /** The reply without its quotation, for a text/plain body. */
    extractFromPlain(text: string): string;
  };
  export default planer;
}
