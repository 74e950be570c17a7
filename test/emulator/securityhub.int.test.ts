import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  CreateActionTargetCommand,
  DeleteActionTargetCommand,
  DescribeActionTargetsCommand,
  GetFindingsCommand,
  UpdateActionTargetCommand,
  type AwsSecurityFinding,
  type AwsSecurityFindingFilters,
} from '@aws-sdk/client-securityhub';
import { beforeEach, describe, expect, it } from 'vitest';

import { EmulatorUnsupportedOperationError } from '../../src/emulator/index.js';
import { resetEmulator } from '../support/emulator.js';
import { asffFindingOf, emulatorSecurityHub, importFindings, readFinding } from '../support/emulator-securityhub.js';

/**
 * What the launcher (src/emulator/moto_riposte.py) adds to moto's Security Hub, checked
 * against the AWS Security Hub API reference through the SDK. Each documented fact a test
 * relies on is quoted with its page; if the launcher drifts from it, the test fails.
 */

const CIS = asffFindingOf('securityhub-imported-cis-password-policy.json');
const SSH = asffFindingOf('securityhub-imported-open-ssh.json');
const identifierOf = (finding: AwsSecurityFinding): { Id: string; ProductArn: string } => ({ Id: finding.Id as string, ProductArn: finding.ProductArn as string });
const UNKNOWN = { Id: 'arn:aws:securityhub:us-east-1:111122223333:security-control/IAM.15/finding/00000000-0000-0000-0000-000000000000', ProductArn: CIS.ProductArn as string };

const errorOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

beforeEach(async () => {
  await resetEmulator();
});

describe('emulated BatchUpdateFindings', () => {
  it('writes Note and Workflow.Status on an imported finding (CIS 1.9), read back with GetFindings', async () => {
    await importFindings([CIS, SSH]);

    const answer = await emulatorSecurityHub().send(
      new BatchUpdateFindingsCommand({ FindingIdentifiers: [identifierOf(CIS)], Note: { Text: '[riposte run r-1] fixed', UpdatedBy: 'riposte' }, Workflow: { Status: 'RESOLVED' } }),
    );

    expect(answer).toMatchObject({ ProcessedFindings: [identifierOf(CIS)], UnprocessedFindings: [] });
    const read = await readFinding(CIS.Id as string, CIS.ProductArn as string);
    expect(read?.Note).toMatchObject({ Text: '[riposte run r-1] fixed', UpdatedBy: 'riposte' });
    // AwsSecurityFinding Note: UpdatedAt is when the note was updated.
    expect(Date.parse(read?.Note?.UpdatedAt ?? '')).not.toBeNaN();
    expect(read?.Workflow?.Status).toBe('RESOLVED');
    // API_BatchUpdateFindings: "Updates from BatchUpdateFindings do not affect the value of UpdatedAt for a finding."
    expect(read?.UpdatedAt).toBe(CIS.UpdatedAt);
    // Only the finding named was touched.
    const other = await readFinding(SSH.Id as string, SSH.ProductArn as string);
    expect(other?.Workflow?.Status).toBe('NEW');
    expect(other?.Note).toBeUndefined();
  });

  it('answers an unknown finding in UnprocessedFindings (FindingNotFound) and still updates the known one', async () => {
    await importFindings([CIS]);

    const answer = await emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [UNKNOWN, identifierOf(CIS)], Workflow: { Status: 'NOTIFIED' } }));

    // BatchUpdateFindingsUnprocessedFinding: "FindingNotFound - The FindingIdentifier included in the request did not
    // match an existing finding." Message "Finding Not Found".
    expect(answer.UnprocessedFindings).toEqual([{ FindingIdentifier: UNKNOWN, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' }]);
    expect(answer.ProcessedFindings).toEqual([identifierOf(CIS)]);
    expect((await readFinding(CIS.Id as string, CIS.ProductArn as string))?.Workflow?.Status).toBe('NOTIFIED');
  });

  it('matches a finding by Id and ProductArn together: the right Id under another product is not found', async () => {
    await importFindings([CIS]);
    const elsewhere = { Id: CIS.Id as string, ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' };

    const answer = await emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [elsewhere], Workflow: { Status: 'SUPPRESSED' } }));

    expect(answer.UnprocessedFindings).toEqual([{ FindingIdentifier: elsewhere, ErrorCode: 'FindingNotFound', ErrorMessage: 'Finding Not Found' }]);
    expect((await readFinding(CIS.Id as string, CIS.ProductArn as string))?.Workflow?.Status).toBe('NEW');
  });

  it('lists a duplicated identifier once as DuplicatedFindingIdentifier and leaves that finding unchanged', async () => {
    await importFindings([CIS]);

    const answer = await emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [identifierOf(CIS), identifierOf(CIS)], Workflow: { Status: 'RESOLVED' } }));

    // BatchUpdateFindingsUnprocessedFinding: "DuplicatedFindingIdentifier - The request included two or more findings
    // with the same FindingIdentifier." Message "Finding Identifier is duplicated".
    expect(answer.UnprocessedFindings).toEqual([{ FindingIdentifier: identifierOf(CIS), ErrorCode: 'DuplicatedFindingIdentifier', ErrorMessage: 'Finding Identifier is duplicated' }]);
    expect((await readFinding(CIS.Id as string, CIS.ProductArn as string))?.Workflow?.Status).toBe('NEW');
  });

  // API_BatchUpdateFindings: FindingIdentifiers "up to 100 findings at a time"; WorkflowUpdate Status
  // NEW | NOTIFIED | RESOLVED | SUPPRESSED; Confidence and Criticality 0-100; VerificationState UNKNOWN |
  // TRUE_POSITIVE | FALSE_POSITIVE | BENIGN_POSITIVE; NoteUpdate Text and UpdatedBy required (Note.Text at most
  // 512 characters, AwsSecurityFinding Note). Errors: InvalidInputException (HTTP 400).
  it.each([
    ['Workflow.Status DONE', { Workflow: { Status: 'DONE' as 'NEW' } }],
    ['Note.Text of 513 characters', { Note: { Text: 'x'.repeat(513), UpdatedBy: 'riposte' } }],
    ['Note.UpdatedBy blank', { Note: { Text: 'note', UpdatedBy: ' ' } }],
    ['Confidence 101', { Confidence: 101 }],
    ['Criticality -1', { Criticality: -1 }],
    ['VerificationState MAYBE', { VerificationState: 'MAYBE' as 'UNKNOWN' }],
    ['Severity.Label SEVERE', { Severity: { Label: 'SEVERE' as 'LOW' } }],
    ['no field to update', {}],
  ])('refuses the whole request with InvalidInputException: %s, and changes nothing', async (_name, update) => {
    await importFindings([CIS]);

    const error = await errorOf(emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [identifierOf(CIS)], ...update })));

    expect(error).toMatchObject({ name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    const read = await readFinding(CIS.Id as string, CIS.ProductArn as string);
    expect(read?.Workflow?.Status).toBe('NEW');
    expect(read?.Note).toBeUndefined();
  });

  it('refuses 101 finding identifiers with InvalidInputException (at most 100 at a time)', async () => {
    const identifiers = Array.from({ length: 101 }, (_, index) => ({ Id: `finding-${index}`, ProductArn: CIS.ProductArn as string }));

    const error = await errorOf(emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: identifiers, Workflow: { Status: 'NOTIFIED' } })));

    expect(error).toMatchObject({ name: 'InvalidInputException' });
    // 100 is allowed: all are answered (none exists here).
    const answer = await emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: identifiers.slice(0, 100), Workflow: { Status: 'NOTIFIED' } }));
    expect(answer.UnprocessedFindings).toHaveLength(100);
  });

  it('updates the other customer fields: Severity (Normalized 75 sets Label HIGH), VerificationState, Confidence, Criticality, Types, UserDefinedFields, RelatedFindings', async () => {
    await importFindings([CIS, SSH]);

    await emulatorSecurityHub().send(
      new BatchUpdateFindingsCommand({
        FindingIdentifiers: [identifierOf(CIS)],
        Severity: { Normalized: 75 },
        VerificationState: 'TRUE_POSITIVE',
        Confidence: 80,
        Criticality: 90,
        Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
        UserDefinedFields: { riposteRun: 'r-1' },
        RelatedFindings: [identifierOf(SSH)],
      }),
    );

    const read = await readFinding(CIS.Id as string, CIS.ProductArn as string);
    // SeverityUpdate: "If you provide Normalized and don't provide Label, Label is set automatically" (70–89 HIGH).
    expect(read?.Severity).toMatchObject({ Normalized: 75, Label: 'HIGH' });
    expect(read).toMatchObject({
      VerificationState: 'TRUE_POSITIVE',
      Confidence: 80,
      Criticality: 90,
      Types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
      UserDefinedFields: { riposteRun: 'r-1' },
      RelatedFindings: [identifierOf(SSH)],
    });
  });
});

describe('emulated BatchUpdateFindingsV2 (no OCSF findings store)', () => {
  const ocsf = {
    CloudAccountUid: '111122223333',
    FindingInfoUid: 'arn:aws:securityhub:us-east-1:111122223333:security-control/IAM.15/finding/x',
    MetadataProductUid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
  };

  it('answers every OCSF finding in UnprocessedFindings with ResourceNotFoundException', async () => {
    const answer = await emulatorSecurityHub().send(new BatchUpdateFindingsV2Command({ FindingIdentifiers: [ocsf], Comment: '[riposte run r-1] fixed', StatusId: 4 }));

    // BatchUpdateFindingsV2UnprocessedFinding: ErrorCode ResourceNotFoundException | ValidationException | InternalServerException | ConflictException.
    expect(answer).toMatchObject({ ProcessedFindings: [], UnprocessedFindings: [{ FindingIdentifier: ocsf, ErrorCode: 'ResourceNotFoundException' }] });
  });

  // API_BatchUpdateFindingsV2: "Customers cannot use MetadataUids together with FindingIdentifiers"; StatusId in
  // [0, 1, 2, 3, 4, 5, 99]; SeverityId in [0, 1, 2, 3, 4, 5, 6, 99]; Comment 1 to 512 characters. ValidationException (400).
  it.each([
    ['MetadataUids with FindingIdentifiers', { MetadataUids: ['uid-1'], FindingIdentifiers: [ocsf], StatusId: 2 }],
    ['StatusId 7', { FindingIdentifiers: [ocsf], StatusId: 7 }],
    ['SeverityId 7', { FindingIdentifiers: [ocsf], SeverityId: 7 }],
    ['Comment of 513 characters', { FindingIdentifiers: [ocsf], Comment: 'x'.repeat(513) }],
  ])('refuses %s with ValidationException', async (_name, input) => {
    const error = await errorOf(emulatorSecurityHub().send(new BatchUpdateFindingsV2Command(input)));

    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });
});

describe('emulated GetFindings filters', () => {
  const ids = async (Filters: AwsSecurityFindingFilters): Promise<string[]> => {
    const { Findings } = await emulatorSecurityHub().send(new GetFindingsCommand({ Filters }));
    return (Findings ?? []).map((finding) => finding.Id as string).sort();
  };
  const archived = { ...SSH, Id: `${SSH.Id as string}-archived`, RecordState: 'ARCHIVED' as const, Compliance: { Status: 'PASSED' as const } };
  const guardDuty = asffFindingOf('securityhub-imported-guardduty-ec2.json');

  beforeEach(async () => {
    await importFindings([CIS, SSH, archived, guardDuty]);
  });

  it('filters on Id, ProductArn, WorkflowStatus, RecordState and ComplianceStatus with EQUALS', async () => {
    expect(await ids({ Id: [{ Value: CIS.Id, Comparison: 'EQUALS' }] })).toEqual([CIS.Id]);
    expect(await ids({ ProductArn: [{ Value: guardDuty.ProductArn, Comparison: 'EQUALS' }] })).toEqual([guardDuty.Id]);
    expect(await ids({ RecordState: [{ Value: 'ARCHIVED', Comparison: 'EQUALS' }] })).toEqual([archived.Id]);
    expect(await ids({ ComplianceStatus: [{ Value: 'PASSED', Comparison: 'EQUALS' }] })).toEqual([archived.Id]);
    await emulatorSecurityHub().send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [identifierOf(SSH)], Workflow: { Status: 'NOTIFIED' } }));
    expect(await ids({ WorkflowStatus: [{ Value: 'NOTIFIED', Comparison: 'EQUALS' }] })).toEqual([SSH.Id]);
  });

  it('joins EQUALS and PREFIX on one field by OR, NOT_EQUALS by AND, and different fields by AND', async () => {
    // StringFilter: "CONTAINS, EQUALS, and PREFIX filters on the same field are joined by OR"; "NOT_CONTAINS,
    // NOT_EQUALS, and PREFIX_NOT_EQUALS filters on the same field are joined by AND"; values are case sensitive.
    expect(
      await ids({
        Id: [
          { Value: CIS.Id, Comparison: 'EQUALS' },
          { Value: guardDuty.Id, Comparison: 'EQUALS' },
        ],
      }),
    ).toEqual([CIS.Id, guardDuty.Id].sort());
    expect(await ids({ Id: [{ Value: 'arn:aws:securityhub:us-east-1:111122223333:security-control/EC2.13/', Comparison: 'PREFIX' }] })).toEqual([SSH.Id, archived.Id].sort());
    expect(
      await ids({
        Id: [{ Value: 'arn:aws:securityhub:us-east-1:111122223333:', Comparison: 'PREFIX' }],
        RecordState: [{ Value: 'ARCHIVED', Comparison: 'NOT_EQUALS' }],
      }),
    ).toEqual([CIS.Id, SSH.Id].sort());
    expect(await ids({ RecordState: [{ Value: 'active', Comparison: 'EQUALS' }] })).toEqual([]);
    expect(
      await ids({
        ComplianceStatus: [
          { Value: 'FAILED', Comparison: 'NOT_EQUALS' },
          { Value: 'PASSED', Comparison: 'NOT_EQUALS' },
        ],
      }),
    ).toEqual([guardDuty.Id]);
  });

  it('refuses EQUALS with NOT_EQUALS on one field (InvalidInputException)', async () => {
    // StringFilter: "you can't provide both an EQUALS filter and a NOT_EQUALS or PREFIX_NOT_EQUALS filter on the same field."
    const error = await errorOf(
      emulatorSecurityHub().send(
        new GetFindingsCommand({
          Filters: {
            RecordState: [
              { Value: 'ACTIVE', Comparison: 'EQUALS' },
              { Value: 'ARCHIVED', Comparison: 'NOT_EQUALS' },
            ],
          },
        }),
      ),
    );

    expect(error).toMatchObject({ name: 'InvalidInputException' });
  });

  it('names a filter field it does not implement (UpdatedAt) instead of ignoring it', async () => {
    const error = await errorOf(emulatorSecurityHub().send(new GetFindingsCommand({ Filters: { UpdatedAt: [{ DateRange: { Value: 1, Unit: 'DAYS' } }] } })));

    expect(error).toBeInstanceOf(EmulatorUnsupportedOperationError);
  });
});

describe('emulated action targets (custom actions)', () => {
  const client = (region?: string) => emulatorSecurityHub(region);
  const describeAll = async (region?: string): Promise<Array<{ ActionTargetArn?: string; Name?: string; Description?: string }>> => {
    const all = [];
    let NextToken: string | undefined;
    do {
      const page = await client(region).send(new DescribeActionTargetsCommand({ MaxResults: 20, ...(NextToken === undefined ? {} : { NextToken }) }));
      all.push(...(page.ActionTargets ?? []));
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    return all;
  };

  it('creates, describes, updates and deletes a target (IsolateEc2), read back each time', async () => {
    const { ActionTargetArn } = await client().send(new CreateActionTargetCommand({ Id: 'IsolateEc2', Name: 'Isolate instance', Description: 'Isolate and preserve an EC2 instance' }));

    // API_CreateActionTarget example: arn:aws:securityhub:us-west-1:123456789012:action/custom/Remediation
    expect(ActionTargetArn).toBe('arn:aws:securityhub:us-east-1:123456789012:action/custom/IsolateEc2');
    const arn = ActionTargetArn as string;
    expect((await client().send(new DescribeActionTargetsCommand({ ActionTargetArns: [arn] }))).ActionTargets).toEqual([
      { ActionTargetArn: arn, Name: 'Isolate instance', Description: 'Isolate and preserve an EC2 instance' },
    ]);

    await client().send(new UpdateActionTargetCommand({ ActionTargetArn: arn, Name: 'Isolate EC2' }));
    expect(await describeAll()).toEqual([{ ActionTargetArn: arn, Name: 'Isolate EC2', Description: 'Isolate and preserve an EC2 instance' }]);

    const deleted = await client().send(new DeleteActionTargetCommand({ ActionTargetArn: arn }));
    expect(deleted.ActionTargetArn).toBe(arn);
    expect(await describeAll()).toEqual([]);
  });

  it('refuses a second target with the same Id (ResourceConflictException) and keeps the first', async () => {
    await client().send(new CreateActionTargetCommand({ Id: 'IsolateEc2', Name: 'Isolate instance', Description: 'first' }));

    const error = await errorOf(client().send(new CreateActionTargetCommand({ Id: 'IsolateEc2', Name: 'Other', Description: 'second' })));

    expect(error).toMatchObject({ name: 'ResourceConflictException', $metadata: { httpStatusCode: 409 } });
    expect((await describeAll()).map((target) => target.Description)).toEqual(['first']);
  });

  it('refuses the 51st target of an account and Region with LimitExceededException; pages through the 50', async () => {
    for (let index = 0; index < 50; index += 1) {
      await client().send(new CreateActionTargetCommand({ Id: `Action${index}`, Name: `Action ${index}`, Description: 'limit' }));
    }

    // Security Hub endpoints and quotas: custom actions, 50 per account per Region. LimitExceededException (HTTP 429).
    const error = await errorOf(client().send(new CreateActionTargetCommand({ Id: 'Action50', Name: 'Action 50', Description: 'limit' })));

    expect(error).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 429 } });
    const first = await client().send(new DescribeActionTargetsCommand({ MaxResults: 20 }));
    expect(first.ActionTargets).toHaveLength(20);
    expect(first.NextToken).toEqual(expect.any(String));
    const all = await describeAll();
    expect(all).toHaveLength(50);
    expect(new Set(all.map((target) => target.ActionTargetArn)).size).toBe(50);
    // The quota is per Region: another Region still has room.
    await client('eu-west-1').send(new CreateActionTargetCommand({ Id: 'Action50', Name: 'Action 50', Description: 'limit' }));
    expect(await describeAll('eu-west-1')).toHaveLength(1);
  });

  it('answers ResourceNotFoundException for deleting or updating an unknown target', async () => {
    const arn = 'arn:aws:securityhub:us-east-1:123456789012:action/custom/Missing';

    expect(await errorOf(client().send(new DeleteActionTargetCommand({ ActionTargetArn: arn })))).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    expect(await errorOf(client().send(new UpdateActionTargetCommand({ ActionTargetArn: arn, Name: 'x' })))).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  // API_CreateActionTarget: Name "Can contain up to 20 characters"; Id "Can contain up to 20 alphanumeric characters";
  // Name, Description and Id required (pattern .*\S.*). InvalidInputException (HTTP 400).
  it.each([
    ['a Name of 21 characters', { Id: 'Ok', Name: 'n'.repeat(21), Description: 'd' }],
    ['an Id with a hyphen', { Id: 'Isolate-Ec2', Name: 'Isolate', Description: 'd' }],
    ['an Id of 21 characters', { Id: 'a'.repeat(21), Name: 'Isolate', Description: 'd' }],
    ['a blank Description', { Id: 'Ok', Name: 'Isolate', Description: ' ' }],
  ])('refuses %s with InvalidInputException and creates nothing', async (_name, input) => {
    const error = await errorOf(client().send(new CreateActionTargetCommand(input)));

    expect(error).toMatchObject({ name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    expect(await describeAll()).toEqual([]);
  });

  it('forgets the targets on reset, with the rest of the state', async () => {
    await client().send(new CreateActionTargetCommand({ Id: 'IsolateEc2', Name: 'Isolate instance', Description: 'd' }));

    await resetEmulator();

    expect(await describeAll()).toEqual([]);
  });
});
