import { parseArn, partitionOfRegion } from '../aws-names.js';
import type { ProductRef } from './types.js';

/*
 * Who made a finding. A member account may import findings into its own
 * default product, and name them anything: only an ARN in Security Hub's
 * `product/aws/<service>` namespace (no account: AWS owns it), in the
 * finding's own partition and region, proves an AWS service made it. A
 * product name ("GuardDuty") proves nothing.
 *
 * Ids without a `/` are reserved for AWS (and Riposte); everything else gets
 * a `<company>/<product>` id that no AWS slug can equal:
 *
 * | product ARN or name                                        | id                    | owner       |
 * |------------------------------------------------------------|-----------------------|-------------|
 * | `arn:aws:securityhub:us-east-1::product/aws/guardduty` (the finding's region) | `guardduty` | aws |
 * | the same in another region or partition                    | `unverified/guardduty`| third-party |
 * | `arn:aws:securityhub:us-east-1:111122223333:product/aws/guardduty` | `111122223333/guardduty` | third-party |
 * | `arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default` | `111122223333/default` | third-party |
 * | `arn:aws:securityhub:us-east-1::product/acme/scanner`      | `acme/scanner`        | third-party |
 * | OCSF name "GuardDuty", no uid                              | `unverified/guardduty`| third-party |
 */

/** Where the finding says it is: the product ARN must be in the same place. */
export interface ProductContext {
  readonly region: string;
  /** A partition the finding states itself (OCSF `cloud.cloud_partition`), if any: it must agree with the region's. */
  readonly statedPartition?: string;
}

/** Product slugs as Security Hub writes them: `guardduty`, `securityhub`, `inspector`, `access-analyzer`. */
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
/** Company names in product ARNs (`aws`, `crowdstrike`, an account id for a default product). */
const COMPANY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A name turned into an id part: lower case, runs of anything else as one `-`. */
export function slugOf(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug === '' ? 'unknown' : slug.slice(0, 64);
}

interface ProductIdentity {
  readonly id: string;
  readonly owner: ProductRef['owner'];
  /** The product part of the ARN, for a display name when the finding sends none. */
  readonly product: string;
}

/**
 * The id and owner a Security Hub product ARN proves. `kinds` lists the
 * resource prefixes accepted (`product` for ASFF; OCSF uids use `productv2`).
 */
export function productIdentity(arn: string | undefined, context: ProductContext, kinds: readonly string[]): ProductIdentity | undefined {
  const parsed = parseArn(arn);
  if (parsed === undefined || parsed.service !== 'securityhub') return undefined;
  const parts = parsed.resource.split('/');
  const [kind = '', company = '', product = ''] = parts;
  if (parts.length !== 3 || !kinds.includes(kind) || !COMPANY.test(company) || product === '') return undefined;
  if (parsed.account !== '') {
    // An account's own product (its default product, or a custom integration):
    // whatever it calls itself, the account made it.
    return /^\d{12}$/.test(parsed.account) ? { id: `${parsed.account}/${product}`, owner: 'third-party', product } : undefined;
  }
  if (company !== 'aws') return { id: `${company}/${product}`, owner: 'third-party', product };
  const partition = partitionOfRegion(context.region);
  const samePlace = parsed.region === context.region && parsed.partition === partition && (context.statedPartition === undefined || context.statedPartition === partition);
  return samePlace && SLUG.test(product) ? { id: product, owner: 'aws', product } : { id: `unverified/${slugOf(product)}`, owner: 'third-party', product };
}

/** A product known only by a name (or by a uid that is not a product ARN): never AWS's. */
export function unverifiedProduct(name: string | undefined, fallback: string): ProductIdentity {
  const product = name ?? fallback;
  return { id: `unverified/${slugOf(product)}`, owner: 'third-party', product };
}
