import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type {
  NeonAuthEmailAndPasswordConfig,
  NeonAuthEmailServerConfigResponse,
  NeonAuthIntegration,
  NeonAuthMagicLinkConfig,
  NeonAuthOauthProvider,
  NeonAuthOrganizationConfig,
  NeonAuthPhoneNumberConfig,
  NeonAuthPluginConfigs,
  NeonAuthWebhookConfig,
} from '../../openapi/client/neon-api';
import { api, call, messageFor, type Problem } from '../api';
import type { BranchContext } from '../pages/auth-page';
import { Checkbox, Field, FormProblem, Select } from '../ui/form';
import { Done, useAction } from '../ui/use-action';
import { OAUTH_PROVIDERS, WEBHOOK_EVENTS } from './choices';
import { numberOrText, useSection } from './use-section';

/**
 * The configuration API as forms: OAuth providers, e-mail and password, the e-mail provider with "send test", plugins
 * and webhooks. Each form reads its section, sends the whole form, and shows what the API says next to the field it
 * is about; a section the branch's provider does not have says so, in the API's words. Members see the values only.
 */
export function SettingsSection({ ctx, integration, admin }: { ctx: BranchContext; integration: NeonAuthIntegration; admin: boolean }) {
  return (
    <section class="card" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <OAuthProviders ctx={ctx} integration={integration} admin={admin} />
      <EmailAndPassword ctx={ctx} admin={admin} />
      <EmailProvider ctx={ctx} integration={integration} admin={admin} />
      <Plugins ctx={ctx} admin={admin} />
      <Webhooks ctx={ctx} admin={admin} />
    </section>
  );
}

function Part({ title, unsupported, children }: { title: string; unsupported: string | null; children: ComponentChildren }) {
  return (
    <details class="settings-part" open={unsupported === null}>
      <summary>
        <h3>{title}</h3>
        {unsupported !== null && <span class="hint"> (not available with this provider)</span>}
      </summary>
      {unsupported !== null ? <p class="hint">{unsupported}</p> : children}
    </details>
  );
}

// ---- OAuth providers ----

const OAUTH_NAMES: Record<string, string> = Object.fromEntries(OAUTH_PROVIDERS.map((p) => [p.value, p.label]));

function OAuthProviders({ ctx, integration, admin }: { ctx: BranchContext; integration: NeonAuthIntegration; admin: boolean }) {
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };
  const section = useSection(async () => (await call(api.auth.listBranchNeonAuthOauthProviders(ids))).providers);
  const [id, setId] = useState<NeonAuthOauthProvider['id']>('google');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [tenant, setTenant] = useState('');
  const save = useAction();
  const existing = section.data?.find((p) => p.id === id);

  const submit = (e: Event) => {
    e.preventDefault();
    const fields = {
      ...(clientId.trim() ? { client_id: clientId.trim() } : {}),
      ...(clientSecret ? { client_secret: clientSecret } : {}),
      ...(id === 'microsoft' && tenant.trim() ? { microsoft_tenant_id: tenant.trim() } : {}),
    };
    void save.run('save', async () => {
      if (existing) await call(api.auth.updateBranchNeonAuthOauthProvider({ ...ids, oauthProviderId: id }, fields));
      else await call(api.auth.addBranchNeonAuthOauthProvider(ids, { id, ...fields }));
      setClientSecret('');
      await section.reload();
    }, existing ? `${OAUTH_NAMES[id]} updated.` : `${OAUTH_NAMES[id]} added.`);
  };
  const remove = (pid: NeonAuthOauthProvider['id']) =>
    save.run('save', async () => {
      await call(api.auth.deleteBranchNeonAuthOauthProvider({ ...ids, oauthProviderId: pid }));
      await section.reload();
    }, `${OAUTH_NAMES[pid]} removed.`);

  return (
    <Part title="OAuth providers" unsupported={section.unsupported}>
      <FormProblem problem={section.problem} />
      {section.data && section.data.length === 0 && <p>No OAuth providers: users sign in with e-mail.</p>}
      {section.data && section.data.length > 0 && (
        <ul class="domains">
          {section.data.map((p) => (
            <li key={p.id}>
              <strong>{OAUTH_NAMES[p.id] ?? p.id}</strong> {p.type === 'shared' ? '(shared app)' : <code>{p.client_id}</code>}
              {admin && (
                <button type="button" class="secondary" onClick={() => remove(p.id)} disabled={save.busy !== null} aria-label={`Remove ${OAUTH_NAMES[p.id] ?? p.id}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && (
        <form noValidate class="inline-form" onSubmit={submit} aria-label="Add or update an OAuth provider">
          <Select label="Provider" value={id} onValue={(v) => setId(v as NeonAuthOauthProvider['id'])} options={[...OAUTH_PROVIDERS]} error={messageFor(save.problem, 'id')} />
          <Field label="Client id" value={clientId} onValue={setClientId} error={messageFor(save.problem, 'client_id')} hint="Empty: the shared app, where the installation has one." />
          <Field label="Client secret" type="password" autoComplete="off" value={clientSecret} onValue={setClientSecret} error={messageFor(save.problem, 'client_secret')} hint="Write-only: stored encrypted, never shown." />
          {id === 'microsoft' && <Field label="Microsoft tenant" value={tenant} onValue={setTenant} placeholder="common" error={messageFor(save.problem, 'microsoft_tenant_id')} />}
          <div class="actions">
            <button type="submit" disabled={save.busy !== null}>
              {existing ? `Update ${OAUTH_NAMES[id]}` : `Add ${OAUTH_NAMES[id]}`}
            </button>
          </div>
          <FormProblem problem={save.problem} shownFields={['id', 'client_id', 'client_secret', 'microsoft_tenant_id']} />
        </form>
      )}
      <Done note={save.done} />
      {integration.auth_provider === 'stack' && <p class="hint">Stack Auth applies them to its project's sign-in at once.</p>}
    </Part>
  );
}

// ---- e-mail and password ----

const EMAIL_PASSWORD_FLAGS: [keyof NeonAuthEmailAndPasswordConfig, string][] = [
  ['enabled', 'Sign-in with e-mail and password'],
  ['disable_sign_up', 'No new sign-ups (existing users still sign in)'],
  ['require_email_verification', 'Require a verified e-mail before sign-in'],
  ['send_verification_email_on_sign_up', 'Send the verification e-mail on sign-up'],
  ['send_verification_email_on_sign_in', 'Send the verification e-mail on sign-in (unverified users)'],
  ['auto_sign_in_after_verification', 'Sign in automatically after verification'],
];

function EmailAndPassword({ ctx, admin }: { ctx: BranchContext; admin: boolean }) {
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };
  const section = useSection(() => call(api.auth.getNeonAuthEmailAndPasswordConfig(ids)));
  const [form, setForm] = useState<NeonAuthEmailAndPasswordConfig | null>(null);
  const [minLength, setMinLength] = useState('');
  const [maxLength, setMaxLength] = useState('');
  const save = useAction();
  useEffect(() => {
    if (!section.data) return;
    setForm(section.data);
    setMinLength(String(section.data.min_password_length ?? ''));
    setMaxLength(String(section.data.max_password_length ?? ''));
  }, [section.data]);

  const submit = (e: Event) => {
    e.preventDefault();
    if (!form) return;
    const body = { ...form, min_password_length: numberOrText(minLength), max_password_length: numberOrText(maxLength) } as NeonAuthEmailAndPasswordConfig;
    void save.run('save', async () => section.set(await call(api.auth.updateNeonAuthEmailAndPasswordConfig(ids, body))), 'Saved.');
  };
  return (
    <Part title="E-mail and password" unsupported={section.unsupported}>
      <FormProblem problem={section.problem} />
      {form && (
        <form noValidate onSubmit={submit} aria-label="E-mail and password">
          {EMAIL_PASSWORD_FLAGS.map(([key, label]) => (
            <Checkbox key={key} label={label} checked={Boolean(form[key])} disabled={!admin} onChecked={(v) => setForm({ ...form, [key]: v })} error={messageFor(save.problem, key)} />
          ))}
          <div class="inline-form">
            <Select
              label="Verification"
              value={form.email_verification_method}
              disabled={!admin}
              onValue={(v) => setForm({ ...form, email_verification_method: v as NeonAuthEmailAndPasswordConfig['email_verification_method'] })}
              options={[
                { value: 'link', label: 'A link in the e-mail' },
                { value: 'otp', label: 'A one-time code' },
              ]}
              error={messageFor(save.problem, 'email_verification_method')}
            />
            <Field label="Shortest password" type="number" value={minLength} onValue={setMinLength} disabled={!admin} error={messageFor(save.problem, 'min_password_length')} />
            <Field label="Longest password" type="number" value={maxLength} onValue={setMaxLength} disabled={!admin} error={messageFor(save.problem, 'max_password_length')} />
          </div>
          {admin && (
            <div class="actions">
              <button type="submit" disabled={save.busy !== null}>
                Save e-mail and password
              </button>
            </div>
          )}
          <FormProblem problem={save.problem} shownFields={[...EMAIL_PASSWORD_FLAGS.map(([k]) => k), 'email_verification_method', 'min_password_length', 'max_password_length']} />
          <Done note={save.done} />
        </form>
      )}
    </Part>
  );
}

// ---- e-mail provider ----

const SMTP_FIELDS = ['host', 'port', 'username', 'password', 'sender_email', 'sender_name'] as const;

function EmailProvider({ ctx, integration, admin }: { ctx: BranchContext; integration: NeonAuthIntegration; admin: boolean }) {
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };
  const section = useSection(() => call(api.auth.getNeonAuthEmailProvider(ids)));
  const [type, setType] = useState<NeonAuthEmailServerConfigResponse['type']>('shared');
  const [smtp, setSmtp] = useState<Record<string, string>>({});
  const [recipient, setRecipient] = useState('');
  const save = useAction();
  const test = useAction();
  useEffect(() => {
    if (!section.data) return;
    setType(section.data.type);
    setSmtp(Object.fromEntries(SMTP_FIELDS.map((f) => [f, f === 'password' ? '' : String(section.data?.[f] ?? '')])));
  }, [section.data]);
  const set = (f: string) => (v: string) => setSmtp({ ...smtp, [f]: v });
  const smtpBody = () => ({
    host: smtp.host?.trim() ?? '',
    port: numberOrText(smtp.port ?? '') as number,
    username: smtp.username ?? '',
    password: smtp.password ?? '',
    sender_email: smtp.sender_email?.trim() ?? '',
    sender_name: smtp.sender_name?.trim() ?? '',
  });

  const submit = (e: Event) => {
    e.preventDefault();
    const body =
      type === 'shared'
        ? { type }
        : // The password is write-only: left empty, the stored one is kept.
          { type, ...Object.fromEntries(Object.entries(smtpBody()).filter(([k, v]) => !(k === 'password' && v === '') && v !== undefined)) };
    void save.run('save', async () => section.set(await call(api.auth.updateNeonAuthEmailProvider(ids, body as never))), 'Saved.');
  };
  // A test goes through the SMTP settings typed here (nothing saved); with the password left empty, Better Auth can
  // test the saved server instead (the API keeps its password). The installation's sender has nothing to test.
  const testsSaved = integration.auth_provider === 'better_auth' && section.data?.type === 'standard' && !smtp.password;
  const sendTest = () =>
    test.run('test', async () => {
      const result = testsSaved
        ? await call(api.auth.sendNeonAuthEmailProviderTest(ids, { recipient_email: recipient.trim() }))
        : await call(api.auth.sendNeonAuthTestEmail(ids, { ...smtpBody(), recipient_email: recipient.trim() }));
      if (!result.success) throw { status: 200, code: 'SEND_FAILED', message: `The test e-mail was not sent: ${result.error_message ?? 'no reason given'}`, fields: {} } satisfies Problem;
    }, `Test e-mail sent to ${recipient.trim()}.`);

  return (
    <Part title="E-mail provider" unsupported={section.unsupported}>
      <FormProblem problem={section.problem} />
      {section.data && (
        <form noValidate onSubmit={submit} aria-label="E-mail provider">
          <Select
            label="Sender"
            value={type}
            disabled={!admin}
            onValue={(v) => setType(v as typeof type)}
            options={[
              { value: 'shared', label: "The installation's sender" },
              { value: 'standard', label: 'Your SMTP server' },
            ]}
            error={messageFor(save.problem, 'type')}
          />
          {type === 'standard' && (
            <div class="inline-form">
              <Field label="SMTP host" value={smtp.host ?? ''} onValue={set('host')} disabled={!admin} error={messageFor(save.problem, 'host') ?? messageFor(test.problem, 'host')} />
              <Field label="SMTP port" type="number" value={smtp.port ?? ''} onValue={set('port')} disabled={!admin} error={messageFor(save.problem, 'port') ?? messageFor(test.problem, 'port')} />
              <Field label="SMTP username" autoComplete="off" value={smtp.username ?? ''} onValue={set('username')} disabled={!admin} error={messageFor(save.problem, 'username') ?? messageFor(test.problem, 'username')} />
              <Field label="SMTP password" type="password" autoComplete="off" value={smtp.password ?? ''} onValue={set('password')} disabled={!admin} error={messageFor(save.problem, 'password') ?? messageFor(test.problem, 'password')} hint="Write-only: left empty, the saved one is kept (a test needs it typed)." />
              <Field label="Sender e-mail" type="email" value={smtp.sender_email ?? ''} onValue={set('sender_email')} disabled={!admin} error={messageFor(save.problem, 'sender_email') ?? messageFor(test.problem, 'sender_email')} />
              <Field label="Sender name" value={smtp.sender_name ?? ''} onValue={set('sender_name')} disabled={!admin} error={messageFor(save.problem, 'sender_name') ?? messageFor(test.problem, 'sender_name')} />
            </div>
          )}
          {admin && (
            <div class="actions">
              <button type="submit" disabled={save.busy !== null}>
                Save e-mail provider
              </button>
            </div>
          )}
          <FormProblem problem={save.problem} shownFields={['type', ...SMTP_FIELDS]} />
          <Done note={save.done} />
          {admin && type === 'standard' && (
            <div class="inline-form">
              <Field label="Send a test e-mail to" type="email" value={recipient} onValue={setRecipient} error={messageFor(test.problem, 'recipient_email')} />
              <div class="actions">
                <button type="button" class="secondary" onClick={sendTest} disabled={test.busy !== null || recipient.trim() === ''}>
                  {test.busy ? 'Sending…' : 'Send test'}
                </button>
              </div>
              <FormProblem problem={test.problem} shownFields={['recipient_email', ...SMTP_FIELDS]} />
              <Done note={test.done} />
            </div>
          )}
        </form>
      )}
      {type === 'standard' && (
        <p class="hint">
          "Send test" holds a real SMTP conversation with the settings typed here{integration.auth_provider === 'better_auth' ? ' (or, with the password left empty, the saved ones)' : ''}; it saves nothing.
        </p>
      )}
    </Part>
  );
}

// ---- plugins ----

function Plugins({ ctx, admin }: { ctx: BranchContext; admin: boolean }) {
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };
  const section = useSection(() => call(api.auth.getNeonAuthPluginConfigs(ids)));
  return (
    <Part title="Plugins" unsupported={section.unsupported}>
      <FormProblem problem={section.problem} />
      {section.data &&
        (section.data.magic_link || section.data.organization || section.data.phone_number ? (
          <PluginForms ids={ids} plugins={section.data} admin={admin} />
        ) : (
          <p class="hint">This provider has none of the plugins (magic link, organizations, phone number).</p>
        ))}
    </Part>
  );
}

type Ids = { projectId: string; branchId: string };

function PluginForms({ ids, plugins, admin }: { ids: Ids; plugins: NeonAuthPluginConfigs; admin: boolean }) {
  return (
    <>
      {plugins.magic_link && <MagicLink ids={ids} initial={plugins.magic_link} admin={admin} />}
      {plugins.organization && <Organizations ids={ids} initial={plugins.organization} admin={admin} />}
      {plugins.phone_number && <PhoneNumber ids={ids} initial={plugins.phone_number} admin={admin} />}
    </>
  );
}

function MagicLink({ ids, initial, admin }: { ids: Ids; initial: NeonAuthMagicLinkConfig; admin: boolean }) {
  const [form, setForm] = useState(initial);
  const [expires, setExpires] = useState(String(initial.expires_in));
  const save = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void save.run('save', async () => {
      const saved = await call(api.auth.updateNeonAuthMagicLinkPlugin(ids, { enabled: form.enabled, disable_sign_up: form.disable_sign_up, expires_in: numberOrText(expires) as number }));
      setForm(saved);
      setExpires(String(saved.expires_in));
    }, 'Saved.');
  };
  return (
    <form noValidate onSubmit={submit} aria-label="Magic link" class="plugin">
      <h4>Magic link</h4>
      <Checkbox label="Sign-in with a link sent by e-mail" checked={form.enabled} disabled={!admin} onChecked={(v) => setForm({ ...form, enabled: v })} />
      <Checkbox label="No new sign-ups by magic link" checked={form.disable_sign_up} disabled={!admin} onChecked={(v) => setForm({ ...form, disable_sign_up: v })} />
      <Field label="Link valid for (minutes)" type="number" value={expires} onValue={setExpires} disabled={!admin} error={messageFor(save.problem, 'expires_in')} />
      {admin && (
        <div class="actions">
          <button type="submit" disabled={save.busy !== null}>
            Save magic link
          </button>
        </div>
      )}
      <FormProblem problem={save.problem} shownFields={['expires_in']} />
      <Done note={save.done} />
    </form>
  );
}

function Organizations({ ids, initial, admin }: { ids: Ids; initial: NeonAuthOrganizationConfig; admin: boolean }) {
  const [form, setForm] = useState(initial);
  const [orgLimit, setOrgLimit] = useState(String(initial.organization_limit));
  const [memberLimit, setMemberLimit] = useState(String(initial.membership_limit));
  const save = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void save.run('save', async () => {
      const saved = await call(
        api.auth.updateNeonAuthOrganizationPlugin(ids, {
          enabled: form.enabled,
          creator_role: form.creator_role,
          send_invitation_email: form.send_invitation_email,
          organization_limit: numberOrText(orgLimit) as number,
          membership_limit: numberOrText(memberLimit) as number,
        }),
      );
      setForm(saved);
    }, 'Saved.');
  };
  return (
    <form noValidate onSubmit={submit} aria-label="Organizations" class="plugin">
      <h4>Organizations</h4>
      <Checkbox label="Users may create organizations" checked={form.enabled} disabled={!admin} onChecked={(v) => setForm({ ...form, enabled: v })} />
      <Checkbox label="Send invitation e-mails" checked={form.send_invitation_email} disabled={!admin} onChecked={(v) => setForm({ ...form, send_invitation_email: v })} />
      <div class="inline-form">
        <Select
          label="Creator's role"
          value={form.creator_role}
          disabled={!admin}
          onValue={(v) => setForm({ ...form, creator_role: v as NeonAuthOrganizationConfig['creator_role'] })}
          options={[
            { value: 'owner', label: 'owner' },
            { value: 'admin', label: 'admin' },
          ]}
        />
        <Field label="Organizations per user" type="number" value={orgLimit} onValue={setOrgLimit} disabled={!admin} error={messageFor(save.problem, 'organization_limit')} />
        <Field label="Members per organization" type="number" value={memberLimit} onValue={setMemberLimit} disabled={!admin} error={messageFor(save.problem, 'membership_limit')} />
      </div>
      {admin && (
        <div class="actions">
          <button type="submit" disabled={save.busy !== null}>
            Save organizations
          </button>
        </div>
      )}
      <FormProblem problem={save.problem} shownFields={['organization_limit', 'membership_limit']} />
      <Done note={save.done} />
    </form>
  );
}

function PhoneNumber({ ids, initial, admin }: { ids: Ids; initial: NeonAuthPhoneNumberConfig; admin: boolean }) {
  const [enabled, setEnabled] = useState(initial.enabled);
  const [expires, setExpires] = useState(String(initial.otp_expires_in ?? ''));
  const save = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void save.run('save', async () => {
      const saved = await call(api.auth.updateNeonAuthPhoneNumberPlugin(ids, { enabled, otp_expires_in: numberOrText(expires) as number }));
      setEnabled(saved.enabled);
      setExpires(String(saved.otp_expires_in ?? ''));
    }, 'Saved.');
  };
  return (
    <form noValidate onSubmit={submit} aria-label="Phone number" class="plugin">
      <h4>Phone number</h4>
      <Checkbox label="Sign-in with a code sent to a phone number" checked={enabled} disabled={!admin} onChecked={setEnabled} />
      <Field label="Code valid for (seconds)" type="number" value={expires} onValue={setExpires} disabled={!admin} error={messageFor(save.problem, 'otp_expires_in')} />
      {admin && (
        <div class="actions">
          <button type="submit" disabled={save.busy !== null}>
            Save phone number
          </button>
        </div>
      )}
      <FormProblem problem={save.problem} shownFields={['otp_expires_in']} />
      <Done note={save.done} />
    </form>
  );
}

// ---- webhooks ----


function Webhooks({ ctx, admin }: { ctx: BranchContext; admin: boolean }) {
  const ids = { projectId: ctx.projectId, branchId: ctx.branchId };
  const section = useSection(() => call(api.auth.getNeonAuthWebhookConfig(ids)));
  const [form, setForm] = useState<NeonAuthWebhookConfig | null>(null);
  const [timeout, setTimeoutText] = useState('');
  const save = useAction();
  useEffect(() => {
    if (!section.data) return;
    setForm(section.data);
    setTimeoutText(String(section.data.timeout_seconds ?? ''));
  }, [section.data]);
  const submit = (e: Event) => {
    e.preventDefault();
    if (!form) return;
    const body = { ...form, webhook_url: form.webhook_url?.trim() || undefined, timeout_seconds: numberOrText(timeout) as number };
    void save.run('save', async () => section.set(await call(api.auth.updateNeonAuthWebhookConfig(ids, body))), 'Saved.');
  };
  const events = new Set(form?.enabled_events ?? []);
  return (
    <Part title="Webhooks" unsupported={section.unsupported}>
      <FormProblem problem={section.problem} />
      {form && (
        <form noValidate onSubmit={submit} aria-label="Webhooks">
          <Checkbox label="Send webhooks" checked={form.enabled} disabled={!admin} onChecked={(v) => setForm({ ...form, enabled: v })} error={messageFor(save.problem, 'enabled')} />
          <div class="inline-form">
            <Field label="Webhook URL" type="url" value={form.webhook_url ?? ''} onValue={(v) => setForm({ ...form, webhook_url: v })} disabled={!admin} error={messageFor(save.problem, 'webhook_url')} placeholder="https://app.example.com/hooks/auth" />
            <Field label="Timeout (seconds)" type="number" value={timeout} onValue={setTimeoutText} disabled={!admin} error={messageFor(save.problem, 'timeout_seconds')} />
          </div>
          <fieldset>
            <legend>Events</legend>
            {WEBHOOK_EVENTS.map((ev) => (
              <Checkbox
                key={ev}
                label={ev}
                checked={events.has(ev)}
                disabled={!admin}
                onChecked={(v) => setForm({ ...form, enabled_events: v ? [...events, ev] : [...events].filter((x) => x !== ev) })}
              />
            ))}
            {messageFor(save.problem, 'enabled_events') && <p class="field-error">{messageFor(save.problem, 'enabled_events')}</p>}
          </fieldset>
          {admin && (
            <div class="actions">
              <button type="submit" disabled={save.busy !== null}>
                Save webhooks
              </button>
            </div>
          )}
          <FormProblem problem={save.problem} shownFields={['enabled', 'webhook_url', 'timeout_seconds', 'enabled_events']} />
          <Done note={save.done} />
        </form>
      )}
    </Part>
  );
}
