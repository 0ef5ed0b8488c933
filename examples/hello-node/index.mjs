export const handler = async (event, context) => {
  const name = event.name ?? "world";
  console.log(`greeting ${name} in request ${context.awsRequestId}`);
  return { message: `Hello, ${name}!` };
};
