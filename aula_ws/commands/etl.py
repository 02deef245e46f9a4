"""`aula-ws etl add|set|list|remove|reset-marks|get`: ETL extraction instances (CONTRACT.md section 6)."""

import argparse
import json
from datetime import datetime

from aula_ws.commands.exits import EXIT_OK
from aula_ws.domain.etl import DELIVERIES, PLUGINS, Position
from aula_ws.services import etl
from aula_ws.services.runtime import Services


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    group = commands.add_parser("etl", help="ETL extraction instances (report_etl_get)")
    actions = group.add_subparsers(dest="etl_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add an extraction instance; prints its id")
    add.add_argument("plugin", choices=list(PLUGINS))
    add.add_argument("--name", required=True, help="a unique name, e.g. the consumer's")
    add.add_argument("--masquerade", action="store_true", help="boardz: pseudonymise logins in the records")
    add.add_argument("--delivery", choices=DELIVERIES, help=DELIVERY_HELP)
    add.set_defaults(handler=_add)
    change = actions.add_parser("set", help="change an instance's settings")
    change.add_argument("instance_id", type=int)
    change.add_argument("--delivery", choices=DELIVERIES, required=True, help=DELIVERY_HELP)
    change.set_defaults(handler=_set)
    actions.add_parser("list", help="list instances and their marks").set_defaults(handler=_list)
    remove = actions.add_parser("remove", help="remove an instance and its marks")
    remove.add_argument("instance_id", type=int)
    remove.set_defaults(handler=_remove)
    reset = actions.add_parser("reset-marks", help="forget an instance's marks: extract from the beginning")
    reset.add_argument("instance_id", type=int)
    reset.add_argument("--query", help="only this query's marks (e.g. special_actions)")
    reset.set_defaults(handler=_reset)
    get = actions.add_parser("get", help="run report_etl_get on an instance; prints the JSON answer")
    get.add_argument("instance_id", type=int)
    get.add_argument("queryparams", help='a JSON object, e.g. \'{"query": "special_actions"}\'')
    get.set_defaults(handler=_get)


DELIVERY_HELP = (
    "what moves the marks: extraction (default, as boardz: the next call continues after what was delivered) "
    "or acknowledged (repeat until special_acknowledge)"
)


def _add(args: argparse.Namespace, services: Services) -> int:
    print(etl.add_instance(services.engine, args.plugin, args.name, services.clock(), args.masquerade, args.delivery))
    return EXIT_OK


def _set(args: argparse.Namespace, services: Services) -> int:
    etl.set_delivery(services.engine, args.instance_id, args.delivery)
    print(f"ETL instance {args.instance_id}: delivery {args.delivery}")
    return EXIT_OK


def _list(args: argparse.Namespace, services: Services) -> int:
    now = services.clock()
    print("id\tplugin\tname\tcreated\tstate\tmarks (query: delivered / acknowledged)")
    for summary in etl.list_instances(services.engine):
        i = summary.instance
        busy = i.lease_until is not None and i.lease_until > now
        marks = "; ".join(
            f"{query}: {_when(m.delivered)} / {_when(m.acked)}" for query, m in sorted(summary.marks.items())
        )
        extra = " masquerade" if i.settings.get("masquerade") else ""
        if i.settings.get("delivery", DELIVERIES[0]) != DELIVERIES[0]:
            extra += f" delivery={i.settings['delivery']}"
        print(
            f"{i.id}\t{i.plugin}{extra}\t{i.name}\t{i.created_at:%Y-%m-%d %H:%M}\t"
            f"{'extracting' if busy else 'idle'}\t{marks or '-'}"
        )
    return EXIT_OK


def _when(position: Position | None) -> str:
    return "-" if position is None else datetime.isoformat(position.time, sep=" ", timespec="seconds")


def _remove(args: argparse.Namespace, services: Services) -> int:
    etl.remove_instance(services.engine, args.instance_id)
    print(f"ETL instance {args.instance_id} removed")
    return EXIT_OK


def _reset(args: argparse.Namespace, services: Services) -> int:
    count = etl.reset_marks(services.engine, args.instance_id, args.query)
    print(f"ETL instance {args.instance_id}: {count} mark(s) forgotten")
    return EXIT_OK


def _get(args: argparse.Namespace, services: Services) -> int:
    engine = services.engine
    plugin = etl.instance_plugin(engine, args.instance_id)
    answer = etl.report_etl_get(engine, services.settings, plugin, args.instance_id, args.queryparams)
    print(json.dumps(answer.__dict__, ensure_ascii=False))
    return EXIT_OK
