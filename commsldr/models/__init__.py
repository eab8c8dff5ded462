"""commsldr.models"""
