// A local Serverless plugin for the files deploy/stack.ts generates besides
// the stack's resources:
// - before the functions are bundled and packed, the compiled playbook
//   library (custom.compiledPlaybooks), at the path the pipeline functions'
//   `package.patterns` include and their cold start reads
//   (src/config.ts PACKAGED_PLAYBOOK_LIBRARY);
// - after `serverless package`, the templates StackSets deploy
//   (custom.stackSetTemplates: the member-account role and the regional
//   forwarders), beside the stack's own template in the package directory.
class GeneratedFiles {
  constructor(serverless, options) {
    this.hooks = {
      'package:initialize': async () => {
        const { mkdir, writeFile } = await import('node:fs/promises');
        const { dirname, join } = await import('node:path');
        const { path, text } = serverless.service.custom.compiledPlaybooks;
        const file = join(serverless.serviceDir, path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, text);
      },
      'after:package:finalize': async () => {
        const { writeFile } = await import('node:fs/promises');
        const { join } = await import('node:path');
        const directory = options.package ?? join(serverless.serviceDir, '.serverless');
        for (const [name, template] of Object.entries(serverless.service.custom.stackSetTemplates)) {
          await writeFile(join(directory, name), `${JSON.stringify(template, null, 2)}\n`);
        }
      },
    };
  }
}

module.exports = GeneratedFiles;
