/** The DynamoDB document client every function uses: the shared client config, one marshalling policy. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig } from './clients.js';

export function createDocumentClient(): DynamoDBDocumentClient {
  // Optional attributes (a user with no open session, say) are simply left out of the item.
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
