/** Reading MongoDB write errors: a duplicate key on an insert-if-absent means the record is there. */
import { MongoBulkWriteError, MongoServerError } from 'mongodb';

export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** A bulk write whose only failures are duplicate keys left every record in place: that is success. */
export function onlyDuplicateKeys(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError)) return false;
  const writeErrors = err.result.getWriteErrors();
  return (
    err.result.getWriteConcernError() === undefined &&
    writeErrors.length > 0 &&
    writeErrors.every((e) => e.code === DUPLICATE_KEY)
  );
}
