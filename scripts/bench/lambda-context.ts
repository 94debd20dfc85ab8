/** The Lambda context object, as JSON for a child process (functions read only plain fields). */
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
