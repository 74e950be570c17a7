import type { MetadataBearer, Pluggable } from '@smithy/types';

/** One AWS call as it left the client: the account whose credentials signed it, and the operation. */
export interface AccountCall {
  readonly account: string;
  /** `EC2Client:ModifyNetworkInterfaceAttributeCommand`. */
  readonly operation: string;
  /** For `AssumeRole`: the account of the role asked for. */
  readonly roleAccount?: string;
}

/**
 * Which account each AWS call acted in, told from the credentials that
 * signed it (moto, like AWS, keeps accounts apart by them): the access key of
 * an `AssumeRole` answer belongs to the account of the role assumed; any
 * other key (the emulator's own) is the hosting account's. The plugin sits
 * in the deserialize step, where the request is signed and about to be sent:
 * each attempt is seen, and a call AWS refuses still counts as made.
 *
 * ```ts
 * const calls = new AccountCalls('123456789012');
 * const lab = await lambdaLab({ plugins: [calls.plugin] });
 * // …
 * expect(calls.in('333333333333')).toEqual([]);
 * ```
 */
export class AccountCalls {
  readonly #hosting: string;
  readonly #accountOfKey = new Map<string, string>();
  readonly #calls: AccountCall[] = [];

  constructor(hostingAccount: string) {
    this.#hosting = hostingAccount;
  }

  readonly plugin: Pluggable<object, MetadataBearer> = {
    applyToStack: (stack) => {
      // Inside the retries and the signing: each attempt, with the credentials that signed it.
      stack.add(
        (next, context) => async (args) => {
          const headers = (args.request as { headers?: Record<string, string> } | undefined)?.headers ?? {};
          const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1] ?? '';
          const key = /Credential=([^/]+)\//.exec(authorization)?.[1];
          const account = (key === undefined ? undefined : this.#accountOfKey.get(key)) ?? this.#hosting;
          const roleArn = context.commandName === 'AssumeRoleCommand' ? (args.input as { RoleArn?: string }).RoleArn : undefined;
          const roleAccount = /^arn:aws[\w-]*:iam::(\d{12}):/.exec(roleArn ?? '')?.[1];
          this.#calls.push({ account, operation: `${context.clientName}:${context.commandName}`, ...(roleAccount === undefined ? {} : { roleAccount }) });
          return next(args);
        },
        { step: 'deserialize', name: 'riposteTestAccountCalls', priority: 'low' },
      );
      // Outside: the answer as the caller gets it, to learn whose an assumed role's access key is.
      stack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'AssumeRoleCommand') {
            const output = result.output as { Credentials?: { AccessKeyId?: string }; AssumedRoleUser?: { Arn?: string } } | undefined;
            const assumed = /^arn:aws[\w-]*:sts::(\d{12}):/.exec(output?.AssumedRoleUser?.Arn ?? '')?.[1];
            const key = output?.Credentials?.AccessKeyId;
            if (key !== undefined && assumed !== undefined) this.#accountOfKey.set(key, assumed);
          }
          return result;
        },
        { step: 'initialize', name: 'riposteTestAssumedKeys', priority: 'high' },
      );
    },
  };

  /** Every call so far, in order. */
  get all(): readonly AccountCall[] {
    return this.#calls;
  }

  /** The calls made in `account`, and the AssumeRole calls asking for a role there. */
  in(account: string): AccountCall[] {
    return this.#calls.filter((call) => call.account === account || call.roleAccount === account);
  }

  /** Forgets the calls (not which key is whose: credentials cached by the runtime stay valid). */
  clear(): void {
    this.#calls.length = 0;
  }
}
