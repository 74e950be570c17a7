// serverless.yml loads the generated parts of the stack through
// `${file(./deploy/stack.cjs):<part>}`: Serverless calls this function for
// each reference, with a resolver of its variables. The generator is
// TypeScript (deploy/stack.ts, on the sources' compiler and action
// registry); tsx's ESM API loads it in this process, offline.

/** One generation per process: every `${file(…)}` reference shares it; a failure is not kept, so a retry generates again. */
let generated;

async function generate(resolveVariable) {
  const { dirname, join } = await import('node:path');
  const { pathToFileURL } = await import('node:url');
  // Imported, not required: tsx's CommonJS build of this API cannot find its own loader.
  const { tsImport } = await import('tsx/esm/api');
  const { generateStack } = await tsImport('./stack.ts', pathToFileURL(module.filename).href);
  const { PACKAGED_PLAYBOOK_LIBRARY } = await tsImport('../src/config.ts', pathToFileURL(module.filename).href);
  const param = async (name) => String((await resolveVariable(`param:${name}`)) ?? '');
  const stack = await generateStack({
    automatic: await param('automatic'),
    memberRoleName: await param('memberRoleName'),
    externalId: await param('externalId'),
    forensicsAccount: await param('forensicsAccount'),
    apiPrincipals: await param('apiPrincipals'),
    organizationId: await param('organizationId'),
    eventBus: await param('eventBus'),
    evidenceRetentionDays: await param('evidenceRetentionDays'),
    playbooks: join(dirname(module.filename), '..', 'playbooks'),
  });
  return {
    template: { Resources: stack.Resources, Outputs: stack.Outputs },
    apiResourcePolicy: stack.apiResourcePolicy,
    stackSetTemplates: {
      'member-role.template.json': stack.memberRoleTemplate,
      'forwarders.template.json': stack.forwarderTemplate,
      // One per Region, in the hosting account: WriterRoleArns is the stack's EvidenceWriterRoleArns output.
      'evidence-bucket.template.json': stack.evidenceBucketTemplate,
    },
    compiledPlaybooks: { path: PACKAGED_PLAYBOOK_LIBRARY, text: stack.compiledPlaybooks },
  };
}

module.exports = async ({ resolveVariable }) => {
  if (generated === undefined) {
    generated = generate(resolveVariable);
    generated.catch(() => (generated = undefined));
  }
  return generated;
};
