import { MAX_RAW_DATA_CHARS, sendInvalidRecords } from '../../../services/shared/invalid-records.js';
import { decodeBatch } from '../../../services/shared/kinesis.js';
import { FakeSqs } from '../../helpers/fake-sqs.js';
import { aRawRecord, STREAM_ARN } from '../../helpers/records.js';

const options = (sqs: FakeSqs) => ({
  sqs: sqs.asClient(),
  queueUrl: 'q',
  functionName: 'fn',
  streamArn: STREAM_ARN,
});

describe('sendInvalidRecords', () => {
  it('sends each invalid record with its reason, position and raw data', async () => {
    const record = aRawRecord('oops', { shardId: 'shardId-000000000001', sequenceNumber: '77' });
    const { invalid } = decodeBatch([record]);
    const sqs = new FakeSqs();
    expect(await sendInvalidRecords(invalid, options(sqs))).toEqual([]);
    expect(sqs.messages).toHaveLength(1);
    expect(sqs.messages[0]?.body).toMatchObject({
      function: 'fn',
      streamArn: STREAM_ARN,
      shardId: 'shardId-000000000001',
      sequenceNumber: '77',
      rawData: Buffer.from('oops').toString('base64'),
      rawDataBytes: 4,
      rawDataTruncated: false,
    });
    expect(sqs.messages[0]?.body.reason).toMatch(/^data is not valid JSON/);
    expect(sqs.messages[0]?.attributes.reason?.StringValue).toMatch(/^data is not valid JSON/);
  });

  it('truncates a payload too big for SQS and says so', async () => {
    const { invalid } = decodeBatch([aRawRecord(Buffer.alloc(1_000_000, 0x61))]);
    const sqs = new FakeSqs();
    await sendInvalidRecords(invalid, options(sqs));
    expect(sqs.messages[0]?.body).toMatchObject({ rawDataBytes: 1_000_000, rawDataTruncated: true });
    expect(String(sqs.messages[0]?.body.rawData).length).toBe(MAX_RAW_DATA_CHARS);
  });

  it('returns the sequence numbers of entries SQS did not accept', async () => {
    const { invalid } = decodeBatch([
      aRawRecord('x', { sequenceNumber: '1' }),
      aRawRecord('y', { sequenceNumber: '2' }),
    ]);
    const sqs = new FakeSqs();
    sqs.failEntriesNext = ['1'];
    expect(await sendInvalidRecords(invalid, options(sqs))).toEqual(['2']);
  });

  it('returns every sequence number of a request that failed', async () => {
    const { invalid } = decodeBatch([
      aRawRecord('x', { sequenceNumber: '1' }),
      aRawRecord('y', { sequenceNumber: '2' }),
    ]);
    const sqs = new FakeSqs();
    sqs.failNextRequest = new Error('timeout');
    expect(await sendInvalidRecords(invalid, options(sqs))).toEqual(['1', '2']);
  });
});
