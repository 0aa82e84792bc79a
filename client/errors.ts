/** The client's error classes: the package's base class and the kinds of a remote call's failure. */
export { LithopsError } from "../protocol/errors.ts";
