/** The archive's S3 client, from the shared client config. */
import { S3Client } from '@aws-sdk/client-s3';
import { clientConfig } from '../clients.js';
import { ArchiveStore } from './store.js';

export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  // An endpoint override (moto, LocalStack) is a plain host: bucket-in-hostname addressing cannot reach it.
  const forcePathStyle = Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  return new S3Client({ ...clientConfig, forcePathStyle });
}

export function archiveStoreFromEnv(bucket: string): { s3: S3Client; store: ArchiveStore } {
  const s3 = createS3Client();
  return { s3, store: new ArchiveStore({ s3, bucket }) };
}
