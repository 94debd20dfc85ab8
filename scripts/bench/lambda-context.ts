/** The Lambda context's fields, as JSON for a child process (which adds getRemainingTimeInMillis). */
export function aLambdaContextJson(functionName: string): string {
  return JSON.stringify({
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: 'bench-cold-start',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
  });
}
