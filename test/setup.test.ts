/**
 * Root hooks for every test: no test may reach a cloud endpoint. The SDK's credential chain ends at the EC2
 * instance metadata address, which is off limits here: disable it, and give the chain nothing to find.
 */
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
for (const v of [
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
]) {
  delete process.env[v];
}
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/arches-storage-tests/credentials';
process.env.AWS_CONFIG_FILE = '/nonexistent/arches-storage-tests/config';
