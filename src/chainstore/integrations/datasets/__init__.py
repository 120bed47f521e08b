"""The importable/exportable datasets, by name."""

from __future__ import annotations

from chainstore.integrations.datasets.base import Dataset
from chainstore.integrations.datasets.catalog import CategoriesDataset, SkusDataset
from chainstore.integrations.datasets.sites import LocationsDataset, SitesDataset
from chainstore.integrations.datasets.stock import OpeningStockDataset

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        CategoriesDataset(),
        SkusDataset(),
        SitesDataset(),
        LocationsDataset(),
        OpeningStockDataset(),
    )
}
