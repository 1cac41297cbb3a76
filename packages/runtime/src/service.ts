/** What every service start function returns: a name for logs and a graceful stop. */
export interface ServiceHandle {
  name: string;
  stop(): Promise<void>;
}
