// Validates an OpenAPI document with @apidevtools/swagger-parser (the schema
// of OpenAPI 3.0 and the references inside it). Exit 0 when valid.
//   node tests/web/validate_openapi.js FILE
const SwaggerParser = require('@apidevtools/swagger-parser');

const file = process.argv[2];
SwaggerParser.validate(file)
  .then((api) => {
    console.log(`valid: ${api.info.title} ${api.info.version}, ${Object.keys(api.paths).length} paths`);
  })
  .catch((err) => {
    console.error(`invalid: ${err.message}`);
    process.exit(1);
  });
