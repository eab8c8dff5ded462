"""commsldr.coding"""
