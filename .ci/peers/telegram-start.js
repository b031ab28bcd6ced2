// Starts telegram-test-api 4.2.1 (a real third-party Bot API emulator) with the fixes from PEERS.md:
// a complete getMe, and no-op setMyCommands/sendChatAction/deleteMyCommands.
const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes');
const { handle } = require('telegram-test-api/lib/routes/bot/utils');
const { getMe } = require('telegram-test-api/lib/routes/bot/getMe');
const { unknownMethod } = require('telegram-test-api/lib/routes/bot/unknownMethod');
const me = { id: 666, is_bot: true, first_name: 'Test', username: 'TestNameBot', can_join_groups: true,
  can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false };
routes[routes.indexOf(getMe)] = (app) => handle(app, '/bot:token/getMe', (_q, res) => res.sendResult({ ok: true, result: me }));
const noop = (m) => (app) => handle(app, `/bot:token/${m}`, (_q, res) => res.sendResult({ ok: true, result: true }));
routes.splice(routes.indexOf(unknownMethod), 0, noop('setMyCommands'), noop('sendChatAction'), noop('deleteMyCommands'));
new TelegramServer({ port: Number(process.env.PORT || 9000), host: '127.0.0.1' }).start();
