"""Throwaway PTB 22 echo bot used by test_emulator_smoke.py to prove the harness.

Run:  TG_TOKEN=123456:TEST TG_API=http://127.0.0.1:9000 python sample_echo_bot.py
      (add TG_WEBHOOK_PORT=8443 [TG_WEBHOOK_SECRET=s] for webhook mode instead of polling)

Features exercised: /start with an inline keyboard, a CallbackQueryHandler that answers the
query and edits the message, a 2-step ConversationHandler (/register -> name -> age),
/cancel, a plain-text echo, set_my_commands in post_init, the job queue.
"""

from __future__ import annotations

import logging
import os

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

NAME, AGE = range(2)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ping", callback_data="ping")],
            [InlineKeyboardButton("Pong", callback_data="pong")],
        ]
    )
    await update.message.reply_text(
        f"Hello, <b>{update.effective_user.first_name}</b>! Choose:",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(text=f"got {query.data}")
    await query.edit_message_text(f"You pressed {query.data}")


async def register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.message.reply_text("What is your name?")
    return NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data["name"] = update.message.text
    await update.message.reply_text(f"Nice to meet you, {update.message.text}. How old are you?")
    return AGE


async def got_age(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if not update.message.text.isdigit():
        await update.message.reply_text("Please send a number.")
        return AGE
    await update.message.reply_text(
        f"Registered {context.user_data['name']}, age {update.message.text}."
    )
    return ConversationHandler.END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.message.reply_text("Cancelled.")
    return ConversationHandler.END


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"Echo: {update.message.text}")


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(
        update.effective_chat.id, f"You edited: {update.edited_message.text}"
    )


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(f"Phone: {update.message.contact.phone_number}")


async def remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_id = update.effective_chat.id
    context.job_queue.run_once(
        lambda ctx: ctx.bot.send_message(chat_id, "Reminder!"), when=0.3, chat_id=chat_id
    )
    await update.message.reply_text("Reminder set.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # one line, no traceback: the smoke test greps the log for this
    logging.getLogger("sample_echo_bot").warning("HANDLER-ERROR %r", context.error)


async def post_init(app: Application) -> None:
    await app.bot.set_my_commands(
        [BotCommand("start", "Start"), BotCommand("register", "Register")]
    )


def build(token: str, api: str) -> Application:
    app = (
        Application.builder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .post_init(post_init)
        .build()
    )
    conv = ConversationHandler(
        entry_points=[CommandHandler("register", register)],
        states={
            NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_name)],
            AGE: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_age)],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
    )
    app.add_handler(conv)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("remind", remind))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit))
    app.add_handler(MessageHandler(filters.CONTACT, on_contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_error_handler(on_error)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    token = os.environ.get("TG_TOKEN", "123456:TEST")
    api = os.environ.get("TG_API", "http://127.0.0.1:9000")
    app = build(token, api)
    webhook_port = os.environ.get("TG_WEBHOOK_PORT")  # webhook mode needs PTB[webhooks]
    if webhook_port:
        app.run_webhook(
            listen="127.0.0.1",
            port=int(webhook_port),
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{webhook_port}/hook",
            secret_token=os.environ.get("TG_WEBHOOK_SECRET") or None,
        )
    else:
        app.run_polling()


if __name__ == "__main__":
    main()
