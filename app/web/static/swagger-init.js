// Starts Swagger UI on /docs. A file rather than FastAPI's inline script: the page's
// Content-Security-Policy runs no inline script.
"use strict";

// Swagger UI fills every multipart field with a sample it makes up ("string", 0, an enum's first
// value), so "Try it out" sent `steps`, `sampler` and prompts of "string" that the gateway
// refuses. Here a form field starts from the example the spec gives it (the task's default model,
// a real prompt) and is otherwise left empty, with "Send empty value" unticked: only what the
// caller fills in is sent.
function formFieldsFromExamples(system) {
  return {
    wrapComponents: {
      ParameterIncludeEmpty: (Original) => (props) =>
        system.React.createElement(Original, {
          ...props,
          isIncludedOptions: { ...props.isIncludedOptions, defaultValue: false },
        }),
    },
    afterLoad(system) {
      const sample = system.fn.getSampleSchema;
      this.fn.getSampleSchema = (schema, contentType, config, example) => {
        // Form fields are the one place Swagger UI asks for a sample with no media type.
        if (contentType !== false) {
          return sample(schema, contentType, config, example);
        }
        const field = schema && typeof schema.toJS === "function" ? schema.toJS() : schema || {};
        if (Array.isArray(field.examples) && field.examples.length > 0) {
          return field.examples[0];
        }
        if (field.example !== undefined) {
          return field.example;
        }
        return undefined;
      };
    },
  };
}

const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: new URL(root.dataset.spec, document.baseURI).href,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [formFieldsFromExamples],
});
