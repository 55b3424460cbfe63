import { confirmFormPage, expiryText } from '../../src/stack-auth/integrations/transfer-page.js';

describe('the ownership-transfer confirm page', () => {
  const now = Date.UTC(2026, 11, 6, 21, 5);
  it.each([
    [20_000, 'in less than a minute'],
    [60_000, 'in 1 minute'],
    [59 * 60_000, 'in 59 minutes'],
    [119 * 60_000, 'in 119 minutes'],
    [5 * 3_600_000, 'in about 5 hours'],
    [-60_000, 'in less than a minute'],
  ])('expiry %d ms ahead reads "%s (… UTC)"', (ahead, left) => {
    const text = expiryText(new Date(now + ahead), now);
    expect(text.startsWith(`${left} (`)).toBe(true);
    expect(text).toMatch(/\(\d{1,2} [A-Z][a-z]+ 2026(,| at) \d{2}:\d{2} UTC\)$/);
  });

  it('escapes what it shows and names the Neon project, not an internal id', () => {
    const html = confirmFormPage({
      projectName: '<script>x</script>',
      projectDescription: 'Neon project "a&b"',
      code: 'c',
      nonce: 'n',
      expiresAt: new Date(now + 3_600_000),
    });
    expect(html).toContain('Transfer &ldquo;&lt;script&gt;x&lt;/script&gt;&rdquo;');
    expect(html).toContain('<dt>About</dt><dd>Neon project &quot;a&amp;b&quot;</dd>');
    expect(html).toContain(`<time datetime="${new Date(now + 3_600_000).toISOString()}">`);
    expect(confirmFormPage({ projectName: 'p', projectDescription: '  ', code: 'c', nonce: 'n', expiresAt: new Date(now) })).not.toContain('About');
  });
});
