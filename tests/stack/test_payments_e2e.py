"""A token bought in the web chat reaches the customer by itself once the sandbox is paid."""

from __future__ import annotations

import re

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.core.settings import Settings
from tests.support.chat import BUDI, Customer
from tests.support.waiting import eventually


async def test_a_token_bought_in_the_chat_arrives_when_paid(settings: Settings) -> None:
    """The stack's sandbox calls this gateway back: its port is `settings.port`."""
    async with TestClient(TestServer(create_app(settings), port=settings.port)) as client:
        chat = "e2e-buyer"
        customer = Customer(client, chat)
        said = [await customer.say(text) for text in ("mau beli token listrik", BUDI, "50rb")]
        said.append(await customer.press("Ya, lanjutkan"))
        refs = re.findall(r"TRX[0-9A-Z]{8}", " ".join(said))
        assert refs, said
        async with aiohttp.ClientSession() as session:
            url = f"{settings.provider_url}/transactions/{refs[-1]}/pay"
            async with session.post(url) as resp:
                paid = await resp.json()
        assert paid["reference"] == f"webchat:{chat}"

        async def told() -> bool:
            return any(paid["token"] in m["text"] for m in await customer.history())

        await eventually(told, timeout=20)
